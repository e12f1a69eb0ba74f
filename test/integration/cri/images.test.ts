/** scripts/images/build.sh: reproducible OCI layouts that containerd's importer understands. */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { buildTestImages } from "../../harness/containerd.ts";

const directories: string[] = [];

function scratch(): string {
  const directory = mkdtempSync(join(tmpdir(), "fl-images-test-"));
  directories.push(directory);
  return directory;
}

afterAll(() => {
  for (const directory of directories) rmSync(directory, { recursive: true, force: true });
});

function tarMember(tarball: string, member: string): Buffer {
  return execFileSync("tar", ["-xOf", tarball, member]);
}

describe("scripts/images/build.sh", () => {
  it("builds byte-identical tarballs twice in a row", async () => {
    const first = await buildTestImages(scratch());
    const second = await buildTestImages(scratch());
    expect(readFileSync(first.pause).equals(readFileSync(second.pause))).toBe(true);
    expect(readFileSync(first.busybox).equals(readFileSync(second.busybox))).toBe(true);
  });

  it("names each image in index.json and points at blobs whose digests match their contents", async () => {
    const images = await buildTestImages(scratch());
    for (const [name, tarball] of [["pause", images.pause], ["busybox", images.busybox]] as const) {
      const index = JSON.parse(tarMember(tarball, "./index.json").toString()) as { manifests: { digest: string; annotations: Record<string, string> }[] };
      const entry = index.manifests[0];
      expect(entry?.annotations["io.containerd.image.name"]).toBe(`docker.io/flotilla/${name}:1`);
      expect(entry?.annotations["org.opencontainers.image.ref.name"]).toBe("1");
      const manifestHex = (entry?.digest ?? "").replace("sha256:", "");
      const manifestBytes = tarMember(tarball, `./blobs/sha256/${manifestHex}`);
      expect(execFileSync("sha256sum", [], { input: manifestBytes }).toString().split(" ")[0]).toBe(manifestHex);
      const manifest = JSON.parse(manifestBytes.toString()) as { config: { digest: string }; layers: { mediaType: string }[] };
      expect(manifest.layers.map((layer) => layer.mediaType)).toEqual(["application/vnd.oci.image.layer.v1.tar"]);
      const config = JSON.parse(tarMember(tarball, `./blobs/sha256/${manifest.config.digest.replace("sha256:", "")}`).toString()) as { config: { Cmd: string[] } };
      expect(config.config.Cmd[0]).toBe(name === "pause" ? "sleep" : "sh");
    }
  });

  it("fails with a clear message without an output directory", () => {
    expect(() => execFileSync(join(import.meta.dirname, "../../../scripts/images/build.sh"), [], { stdio: "pipe" })).toThrow(/usage/);
  });
});
