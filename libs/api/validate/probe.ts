/** Probe and handler validation as upstream's validateProbe / validateHandler. */
import type { FieldError } from "../field-errors.ts";
import { fieldForbidden, fieldInvalid, fieldNotSupported, fieldRequired } from "../field-errors.ts";
import type { FieldPath } from "../field-path.ts";
import type { HTTPGetAction, Probe, ProbeHandler } from "../types/pod.ts";
import { isValidPortNumber } from "../validation-strings.ts";
import { validateNonnegative, validatePortNumberOrName } from "./common.ts";

const httpSchemes = ["HTTP", "HTTPS"];
const handlerNames = ["exec", "httpGet", "tcpSocket", "grpc"] as const;

function validateHttpGet(action: HTTPGetAction, path: FieldPath): FieldError[] {
  const errors: FieldError[] = [];
  if (action.path === "") errors.push(fieldRequired(path.child("path"), ""));
  errors.push(...validatePortNumberOrName(action.port, path.child("port")));
  if (action.scheme !== undefined && !httpSchemes.includes(action.scheme)) errors.push(fieldNotSupported(path.child("scheme"), action.scheme, httpSchemes));
  return errors;
}

/** Exactly one handler: none is Required at the probe, a second one Forbidden at its name. */
export function validateHandler(handler: ProbeHandler, path: FieldPath): FieldError[] {
  const present = handlerNames.filter((name) => handler[name] !== undefined);
  if (present.length === 0) return [fieldRequired(path, "must specify a handler type")];
  const errors = present.slice(1).map((name) => fieldForbidden(path.child(name), "may not specify more than 1 handler type"));
  if (errors.length > 0) return errors;
  if (handler.exec !== undefined && (handler.exec.command ?? []).length === 0) errors.push(fieldRequired(path.child("exec", "command"), ""));
  if (handler.httpGet !== undefined) errors.push(...validateHttpGet(handler.httpGet, path.child("httpGet")));
  if (handler.tcpSocket !== undefined) errors.push(...validatePortNumberOrName(handler.tcpSocket.port, path.child("tcpSocket", "port")));
  const grpcPort = handler.grpc?.port;
  if (grpcPort !== undefined) errors.push(...isValidPortNumber(grpcPort).map((message) => fieldInvalid(path.child("grpc", "port"), grpcPort, message)));
  return errors;
}

export function validateProbe(probe: Probe, path: FieldPath): FieldError[] {
  const errors = validateHandler(probe, path);
  errors.push(...validateNonnegative(probe.initialDelaySeconds, path.child("initialDelaySeconds")));
  errors.push(...validateNonnegative(probe.timeoutSeconds, path.child("timeoutSeconds")));
  errors.push(...validateNonnegative(probe.periodSeconds, path.child("periodSeconds")));
  errors.push(...validateNonnegative(probe.successThreshold, path.child("successThreshold")));
  errors.push(...validateNonnegative(probe.failureThreshold, path.child("failureThreshold")));
  const grace = probe.terminationGracePeriodSeconds;
  if (grace !== undefined && grace <= 0) errors.push(fieldInvalid(path.child("terminationGracePeriodSeconds"), grace, "must be greater than 0"));
  return errors;
}
