/**
 * Logging with pino: JSON lines by default (for machines and journald), human-readable when
 * stderr is a terminal. Components take a child logger named after themselves.
 */
import { pino, type Logger, type LevelWithSilent } from "pino";

export type { Logger };

export interface LogOptions {
  readonly level?: LevelWithSilent;
  /** Force pretty output on or off; by default pretty only when stderr is a TTY. */
  readonly pretty?: boolean;
}

const secretKeys = ["token", "password", "*.token", "*.password", "privateKey", "*.privateKey"];

export function createLogger(name: string, options: LogOptions = {}): Logger {
  const level = options.level ?? (process.env["FLOTILLA_LOG_LEVEL"] as LevelWithSilent | undefined) ?? "info";
  const pretty = options.pretty ?? process.stderr.isTTY === true;
  const base = { name, level, redact: { paths: secretKeys, censor: "[redacted]" } };
  if (pretty) {
    return pino({ ...base, transport: { target: "pino-pretty", options: { destination: 2, colorize: true } } });
  }
  return pino(base, pino.destination(2));
}
