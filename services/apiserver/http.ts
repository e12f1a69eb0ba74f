/**
 * The HTTP edge: reading bounded bodies, writing JSON and upstream Status objects, and mapping
 * the storage layer's errors to the Status an API server answers with.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import {
  StatusError,
  newAlreadyExists,
  newBadRequest,
  newConflict,
  newInternalError,
  newNotFound,
  newRequestEntityTooLarge,
  newResourceExpired,
  newServiceUnavailable,
  newTimeoutError,
} from "../../libs/api/status-errors.ts";
import { isStorageError, type StorageError } from "./storage/index.ts";

/** Upstream's request body limit (3 MiB): larger bodies get 413. */
export const requestBodyBytesMax = 3 * 1024 * 1024;

/** Seconds a client is told to wait after a 429 or a storage timeout. */
export const retryAfterSeconds = 1;

export class BodyTooLargeError extends Error {
  constructor(limitBytes: number) {
    super(`the server has received too large of a request body: limit is ${limitBytes} bytes`);
    this.name = "BodyTooLargeError";
  }
}

/** Reads the whole body, refusing (before reading it all) one larger than `limitBytes`. */
export async function readBody(request: IncomingMessage, limitBytes = requestBodyBytesMax): Promise<Buffer> {
  const declared = Number(request.headers["content-length"] ?? "0");
  if (Number.isFinite(declared) && declared > limitBytes) throw new BodyTooLargeError(limitBytes);
  const chunks: Buffer[] = [];
  let totalBytes = 0;
  for await (const chunk of request) {
    const bytes = chunk as Buffer;
    totalBytes += bytes.length;
    if (totalBytes > limitBytes) throw new BodyTooLargeError(limitBytes);
    chunks.push(bytes);
  }
  return Buffer.concat(chunks);
}

export function writeJson(response: ServerResponse, statusCode: number, body: unknown, headers: Record<string, string> = {}): void {
  // A request that timed out already has its 504; the late answer is dropped.
  if (response.writableEnded) return;
  if (response.headersSent) {
    response.destroy();
    return;
  }
  const text = JSON.stringify(body);
  response.writeHead(statusCode, { "Content-Type": "application/json", "Content-Length": String(Buffer.byteLength(text)), ...headers });
  response.end(text);
}

export function writeStatusError(response: ServerResponse, error: StatusError): void {
  const headers: Record<string, string> = {};
  const retryAfter = error.status.details?.retryAfterSeconds;
  if (retryAfter !== undefined) headers["Retry-After"] = String(retryAfter);
  writeJson(response, error.code === 0 ? 500 : error.code, error.status, headers);
}

function storageStatus(error: StorageError): StatusError {
  const resource = "resource" in error ? (error as { resource: { group: string; resource: string } }).resource : { group: "", resource: "" };
  const name = "objectName" in error ? String((error as { objectName: unknown }).objectName) : "";
  switch (error.reason) {
    case "NotFound":
      return newNotFound(resource, name);
    case "AlreadyExists":
      return newAlreadyExists(resource, name);
    case "Conflict":
      return newConflict(resource, name, conflictDetail(error.message));
    case "Expired":
      return newResourceExpired(error.message);
    case "Timeout":
      return newTimeoutError(error.message, retryAfterSeconds);
    case "ServiceUnavailable":
      return newServiceUnavailable(error.message);
    case "BadRequest":
      return newBadRequest(error.message);
    case "InternalError":
      return newInternalError(error.message);
  }
}

// A ConflictError's message already has upstream's "Operation cannot be fulfilled on ..." prefix.
function conflictDetail(message: string): string {
  const separator = message.indexOf(": ");
  return separator === -1 ? message : message.slice(separator + 2);
}

/** Any error as the Status to answer with; unknown errors are 500s. */
export function toStatusError(error: unknown): StatusError {
  if (error instanceof StatusError) return error;
  if (error instanceof BodyTooLargeError) return newRequestEntityTooLarge(error.message);
  if (isStorageError(error)) return storageStatus(error);
  return newInternalError(error instanceof Error ? error.message : String(error));
}
