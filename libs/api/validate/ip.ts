/** IP address and CIDR syntax as Go's net.ParseIP / ParseCIDR accept them (no zones). */

const ipv4OctetsCount = 4;
const ipv6GroupsCount = 8;

export function isIPv4(text: string): boolean {
  const parts = text.split(".");
  if (parts.length !== ipv4OctetsCount) return false;
  // Go rejects leading zeros ("010") since 1.17, as ambiguous octal.
  return parts.every((part) => /^(0|[1-9][0-9]{0,2})$/.test(part) && Number(part) <= 255);
}

function isHexGroup(part: string): boolean {
  return /^[0-9a-fA-F]{1,4}$/.test(part);
}

export function isIPv6(text: string): boolean {
  if (!text.includes(":")) return false;
  let groups = text.split(":");
  let tailGroups = 0;
  const last = groups[groups.length - 1] ?? "";
  if (last.includes(".")) {
    if (!isIPv4(last)) return false;
    groups = groups.slice(0, -1);
    groups.push("0", "0");
    tailGroups = 0;
  }
  const doubleColon = text.indexOf("::");
  if (doubleColon !== text.lastIndexOf("::")) return false;
  if (doubleColon === -1) return groups.length === ipv6GroupsCount - tailGroups && groups.every(isHexGroup);
  const [head = "", tail = ""] = groups.join(":").split("::");
  const headGroups = head === "" ? [] : head.split(":");
  const tailList = tail === "" ? [] : tail.split(":");
  if (![...headGroups, ...tailList].every(isHexGroup)) return false;
  return headGroups.length + tailList.length < ipv6GroupsCount;
}

export function isIP(text: string): boolean {
  return isIPv4(text) || isIPv6(text);
}

export function isCIDR(text: string): boolean {
  const slash = text.indexOf("/");
  if (slash < 0) return false;
  const address = text.slice(0, slash);
  const prefixText = text.slice(slash + 1);
  if (!/^(0|[1-9][0-9]*)$/.test(prefixText)) return false;
  const prefixBits = Number(prefixText);
  if (isIPv4(address)) return prefixBits <= 32;
  return isIPv6(address) && prefixBits <= 128;
}
