/**
 * String validators with upstream's exact messages (k8s.io/apimachinery pkg/util/validation, as
 * of v0.32): each returns the list of problems, empty when the value is valid. Lengths are UTF-8
 * bytes, as Go's len() counts them.
 */
import { utf8Length } from "./go-format.ts";

const qualifiedNameFormat = "([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]";
const qualifiedNameMessage = "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character";
export const qualifiedNameMaxLength = 63;

const labelValueFormat = `(${qualifiedNameFormat})?`;
const labelValueMessage =
  "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character";
export const labelValueMaxLength = 63;

const dns1123LabelFormat = "[a-z0-9]([-a-z0-9]*[a-z0-9])?";
const dns1123LabelMessage =
  "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character";
export const dns1123LabelMaxLength = 63;

const dns1123SubdomainFormat = `${dns1123LabelFormat}(\\.${dns1123LabelFormat})*`;
const dns1123SubdomainMessage =
  "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character";
export const dns1123SubdomainMaxLength = 253;

const dns1035LabelFormat = "[a-z]([-a-z0-9]*[a-z0-9])?";
const dns1035LabelMessage =
  "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character";
export const dns1035LabelMaxLength = 63;

const configMapKeyFormat = "[-._a-zA-Z0-9]+";
const configMapKeyMessage = "a valid config key must consist of alphanumeric characters, '-', '_' or '.'";

function anchored(format: string): RegExp {
  return new RegExp(`^(?:${format})$`);
}

const qualifiedNamePattern = anchored(qualifiedNameFormat);
const labelValuePattern = anchored(labelValueFormat);
const dns1123LabelPattern = anchored(dns1123LabelFormat);
const dns1123SubdomainPattern = anchored(dns1123SubdomainFormat);
const dns1035LabelPattern = anchored(dns1035LabelFormat);
const configMapKeyPattern = anchored(configMapKeyFormat);

/** `must be no more than N characters` (upstream says characters but counts bytes). */
export function maxLengthError(length: number): string {
  return `must be no more than ${length} characters`;
}

export function emptyError(): string {
  return "must be non-empty";
}

/** Upstream's RegexError, double space and all: `(e.g. 'my-name',  or '123-abc', regex used ...)`. */
export function regexError(message: string, format: string, ...examples: string[]): string {
  if (examples.length === 0) return `${message} (regex used for validation is '${format}')`;
  let text = `${message} (e.g. `;
  examples.forEach((example, index) => {
    if (index > 0) text += " or ";
    text += `'${example}', `;
  });
  return `${text}regex used for validation is '${format}')`;
}

export function inclusiveRangeError(low: number, high: number): string {
  return `must be between ${low} and ${high}, inclusive`;
}

/** A label key, annotation key or finalizer: an optional DNS subdomain prefix and "/", then a name. */
export function isQualifiedName(value: string): string[] {
  const problems: string[] = [];
  const parts = value.split("/");
  let name: string;
  if (parts.length === 1) {
    name = parts[0] ?? "";
  } else if (parts.length === 2) {
    const prefix = parts[0] ?? "";
    name = parts[1] ?? "";
    if (prefix.length === 0) problems.push(`prefix part ${emptyError()}`);
    else problems.push(...isDns1123Subdomain(prefix).map((problem) => `prefix part ${problem}`));
  } else {
    return [
      `a qualified name ${regexError(qualifiedNameMessage, qualifiedNameFormat, "MyName", "my.name", "123-abc")}` +
        " with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')",
    ];
  }
  if (name.length === 0) problems.push(`name part ${emptyError()}`);
  else if (utf8Length(name) > qualifiedNameMaxLength) problems.push(`name part ${maxLengthError(qualifiedNameMaxLength)}`);
  if (!qualifiedNamePattern.test(name)) {
    problems.push(`name part ${regexError(qualifiedNameMessage, qualifiedNameFormat, "MyName", "my.name", "123-abc")}`);
  }
  return problems;
}

export function isValidLabelValue(value: string): string[] {
  const problems: string[] = [];
  if (utf8Length(value) > labelValueMaxLength) problems.push(maxLengthError(labelValueMaxLength));
  if (!labelValuePattern.test(value)) problems.push(regexError(labelValueMessage, labelValueFormat, "MyValue", "my_value", "12345"));
  return problems;
}

export function isDns1123Label(value: string): string[] {
  const problems: string[] = [];
  if (utf8Length(value) > dns1123LabelMaxLength) problems.push(maxLengthError(dns1123LabelMaxLength));
  if (!dns1123LabelPattern.test(value)) {
    // A valid subdomain that is not a valid label can only be wrong by its dots.
    if (dns1123SubdomainPattern.test(value)) problems.push("must not contain dots");
    else problems.push(regexError(dns1123LabelMessage, dns1123LabelFormat, "my-name", "123-abc"));
  }
  return problems;
}

export function isDns1123Subdomain(value: string): string[] {
  const problems: string[] = [];
  if (utf8Length(value) > dns1123SubdomainMaxLength) problems.push(maxLengthError(dns1123SubdomainMaxLength));
  if (!dns1123SubdomainPattern.test(value)) problems.push(regexError(dns1123SubdomainMessage, dns1123SubdomainFormat, "example.com"));
  return problems;
}

export function isDns1035Label(value: string): string[] {
  const problems: string[] = [];
  if (utf8Length(value) > dns1035LabelMaxLength) problems.push(maxLengthError(dns1035LabelMaxLength));
  if (!dns1035LabelPattern.test(value)) problems.push(regexError(dns1035LabelMessage, dns1035LabelFormat, "my-name", "abc-123"));
  return problems;
}

/** A key of a ConfigMap's or Secret's data. */
export function isConfigMapKey(value: string): string[] {
  const problems: string[] = [];
  if (utf8Length(value) > dns1123SubdomainMaxLength) problems.push(maxLengthError(dns1123SubdomainMaxLength));
  if (!configMapKeyPattern.test(value)) problems.push(regexError(configMapKeyMessage, configMapKeyFormat, "key.name", "KEY_NAME", "key-name"));
  if (value === ".") problems.push("must not be '.'");
  else if (value === "..") problems.push("must not be '..'");
  else if (value.startsWith("..")) problems.push("must not start with '..'");
  return problems;
}

export function isValidPortNumber(port: number): string[] {
  return Number.isInteger(port) && port >= 1 && port <= 65535 ? [] : [inclusiveRangeError(1, 65535)];
}

/** An IANA_SVC_NAME: at most 15 lower-case letters, digits and single inner hyphens, one letter at least. */
export function isValidPortName(port: string): string[] {
  const problems: string[] = [];
  if (utf8Length(port) > 15) problems.push(maxLengthError(15));
  if (!/^[-a-z0-9]+$/.test(port)) problems.push("must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)");
  if (!/[a-z]/.test(port)) problems.push("must contain at least one letter (a-z)");
  if (port.includes("--")) problems.push("must not contain consecutive hyphens");
  if (port.length > 0 && (port.startsWith("-") || port.endsWith("-"))) problems.push("must not begin or end with a hyphen");
  return problems;
}

/** Names that are path segments (upstream's path.IsValidPathSegmentName), e.g. RBAC and PV names. */
export function isValidPathSegmentName(name: string): string[] {
  if (name === "." || name === "..") return [`may not be '${name}'`];
  return isValidPathSegmentPrefix(name);
}

export function isValidPathSegmentPrefix(name: string): string[] {
  const problems: string[] = [];
  for (const illegal of ["/", "%"]) {
    if (name.includes(illegal)) problems.push(`may not contain '${illegal}'`);
  }
  return problems;
}
