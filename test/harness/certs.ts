/**
 * Throwaway TLS material for tests, made with the openssl CLI: a CA and one certificate for
 * 127.0.0.1/localhost usable as both server and client certificate (as etcd's test certs are).
 */
import { execFileSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import type { TlsMaterial } from "./store-cluster.ts";

function openssl(args: readonly string[], cwd: string): void {
  execFileSync("openssl", args, { cwd, stdio: ["ignore", "ignore", "pipe"] });
}

export function makeTestCertificates(dir: string): TlsMaterial {
  openssl(["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=flotilla-test-ca", "-keyout", "ca.key", "-out", "ca.crt"], dir);
  writeFileSync(
    join(dir, "ext.cnf"),
    ["subjectAltName=IP:127.0.0.1,DNS:localhost", "extendedKeyUsage=serverAuth,clientAuth", "keyUsage=digitalSignature,keyEncipherment"].join("\n"),
  );
  openssl(["req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=flotilla-test", "-keyout", "member.key", "-out", "member.csr"], dir);
  openssl(["x509", "-req", "-in", "member.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial", "-days", "2", "-extfile", "ext.cnf", "-out", "member.crt"], dir);
  return { caFile: join(dir, "ca.crt"), certFile: join(dir, "member.crt"), keyFile: join(dir, "member.key") };
}
