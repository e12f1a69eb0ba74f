/**
 * The agent's CRI runtime against a real containerd 1.6 running inside a NetworkLab host, with
 * the CNI bridge on a pod subnet and Flotilla's locally built busybox images. Needs root.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { randomInt, randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RuntimeError, type ContainerConfig, type ContainerStatus, type CriRuntime, type SandboxConfig, type SandboxStatus } from "../../../services/agent/cri/index.ts";
import { busyboxImage, buildTestImages, ContainerdHost, pauseImage } from "../../harness/containerd.ts";
import { NetworkLab } from "../../harness/netns.ts";
import { run } from "../../harness/process.ts";
import { waitFor } from "../../harness/wait.ts";

const containerStateWaitMs = 20_000;
const httpWaitMs = 20_000;
const curlTimeoutSeconds = 2;
const curlTimeoutMs = (curlTimeoutSeconds + 2) * 1000;
const execTimeoutSeconds = 10;
const stopGraceSeconds = 2;

function curlArgs(url: string): string[] {
  return ["-sf", "--max-time", String(curlTimeoutSeconds), url];
}

let lab: NetworkLab;
let imagesDir: string;
let containerd: ContainerdHost;
let runtime: CriRuntime;
let podSubnetPrefix: string;

beforeAll(async () => {
  lab = NetworkLab.create(1);
  imagesDir = mkdtempSync(join(tmpdir(), "fl-images-"));
  const images = await buildTestImages(imagesDir);
  podSubnetPrefix = `10.244.${randomInt(1, 255)}`;
  const host = lab.hosts[0];
  if (host === undefined) throw new Error("NetworkLab made no host");
  containerd = await ContainerdHost.start({ lab, host, podSubnet: `${podSubnetPrefix}.0/24`, images });
  runtime = containerd.runtime;
});

afterAll(async () => {
  await containerd?.stop();
  lab?.destroy();
  if (imagesDir !== undefined) rmSync(imagesDir, { recursive: true, force: true });
});

function sandboxConfig(name: string): SandboxConfig {
  const uid = randomUUID();
  return {
    name: `${lab.prefix}-${name}`,
    namespace: lab.prefix,
    uid,
    attempt: 0,
    hostname: name,
    logDirectory: join(containerd.paths.baseDir, "logs", `${lab.prefix}_${name}_${uid}`),
    dns: { servers: ["10.96.0.10"], searches: [`${lab.prefix}.svc.cluster.local`, "svc.cluster.local", "cluster.local"], options: ["ndots:5"] },
    labels: { "flotilla.test/run": lab.prefix },
    annotations: { "flotilla.test/name": name },
    cgroupParent: containerd.cgroupParent,
  };
}

function containerConfig(name: string, command: string[]): ContainerConfig {
  return { name, attempt: 0, image: busyboxImage, command, logPath: `${name}/0.log`, labels: { "flotilla.test/run": lab.prefix }, env: [{ name: "GREETING", value: "hi" }] };
}

async function waitForState(containerId: string, state: ContainerStatus["state"]): Promise<ContainerStatus> {
  return waitFor(
    async () => {
      const status = await runtime.containerStatus(containerId);
      return status.state === state ? status : undefined;
    },
    { timeoutMs: containerStateWaitMs, description: `container ${containerId} ${state}` },
  );
}

describe("CRI runtime on containerd", () => {
  it("Version names containerd speaking CRI v1", async () => {
    const version = await runtime.version();
    expect(version.runtimeName).toBe("containerd");
    expect(version.runtimeApiVersion).toBe("v1");
  });

  it("the runtime and the CNI network report ready", async () => {
    const conditions = await waitFor(
      async () => {
        const current = await runtime.conditions();
        return current.every((condition) => condition.status) ? current : undefined;
      },
      { timeoutMs: containerStateWaitMs, description: "RuntimeReady and NetworkReady" },
    );
    expect(conditions.map((condition) => condition.type).sort()).toEqual(["NetworkReady", "RuntimeReady"]);
  });

  it("lists the imported images and knows an absent one is absent", async () => {
    const tags = (await runtime.listImages()).flatMap((image) => image.repoTags);
    expect(tags).toContain(busyboxImage);
    expect(tags).toContain(pauseImage);
    const busybox = await runtime.imageStatus(busyboxImage);
    expect(busybox?.sizeBytes).toBeGreaterThan(0);
    expect(await runtime.imageStatus(`docker.io/flotilla/absent-${lab.prefix}:1`)).toBeUndefined();
    const filesystems = await runtime.imageFsInfo();
    expect(filesystems.length).toBeGreaterThan(0);
  });

  describe("a pod running busybox httpd", () => {
    const page = `hello-from-${randomInt(0, 1_000_000)}`;
    const hostPort = randomInt(20_000, 30_000);
    let config: SandboxConfig;
    let sandboxId: string;
    let containerId: string;
    let sandbox: SandboxStatus;

    beforeAll(async () => {
      config = { ...sandboxConfig("web"), portMappings: [{ protocol: "TCP", containerPort: 8080, hostPort }] };
      const sandboxStartedAt = performance.now();
      sandboxId = await runtime.runSandbox(config);
      const sandboxMs = performance.now() - sandboxStartedAt;
      const script = `mkdir -p /www && echo ${page} > /www/index.html && exec httpd -f -p 8080 -h /www`;
      const containerStartedAt = performance.now();
      containerId = await runtime.createContainer(sandboxId, containerConfig("httpd", ["sh", "-c", script]), config);
      await runtime.startContainer(containerId);
      const containerMs = performance.now() - containerStartedAt;
      console.log(`CRI latency: RunPodSandbox with CNI ${sandboxMs.toFixed(0)} ms, CreateContainer+StartContainer ${containerMs.toFixed(0)} ms`);
      sandbox = await runtime.sandboxStatus(sandboxId);
      await waitForState(containerId, "Running");
    });

    afterAll(async () => {
      // The last test removes the pod; this catches a run that failed before it.
      if (sandboxId === undefined) return;
      await runtime.stopSandbox(sandboxId).catch(() => undefined);
      await runtime.removeSandbox(sandboxId).catch(() => undefined);
    });

    it("is Ready with an IP from the node's pod subnet and its own metadata", () => {
      expect(sandbox.state).toBe("Ready");
      expect(sandbox.name).toBe(config.name);
      expect(sandbox.annotations).toEqual(config.annotations);
      expect(sandbox.ip.startsWith(`${podSubnetPrefix}.`)).toBe(true);
    });

    it("serves its page to curl on the pod IP from the host's namespace", async () => {
      const body = await waitFor(
        async () => {
          const curl = await run(lab.nsenter(containerd.host)[0] ?? "nsenter", [...lab.nsenter(containerd.host).slice(1), "curl", ...curlArgs(`http://${sandbox.ip}:8080/`)], { timeoutMs: curlTimeoutMs });
          return curl.code === 0 ? curl.stdout : undefined;
        },
        { timeoutMs: httpWaitMs, description: `httpd on ${sandbox.ip}:8080` },
      );
      expect(body.trim()).toBe(page);
    });

    it("serves its page on the host's address and hostPort (portmap), from the LAN", async () => {
      const viaHostPort = await run("curl", curlArgs(`http://${containerd.host.ip}:${hostPort}/`), { timeoutMs: curlTimeoutMs });
      expect(viaHostPort.stdout.trim()).toBe(page);
    });

    it("has the sandbox's hostname and DNS config", async () => {
      expect((await runtime.execSync(containerId, ["hostname"], execTimeoutSeconds)).stdout.toString()).toBe("web\n");
      const resolvConf = (await runtime.execSync(containerId, ["cat", "/etc/resolv.conf"], execTimeoutSeconds)).stdout.toString();
      expect(resolvConf).toContain("nameserver 10.96.0.10");
      expect(resolvConf).toContain(`search ${lab.prefix}.svc.cluster.local svc.cluster.local cluster.local`);
      expect(resolvConf).toContain("options ndots:5");
    });

    it("ExecSync returns stdout, stderr, exit codes and sees the container's env", async () => {
      const echo = await runtime.execSync(containerId, ["echo", "hi"], execTimeoutSeconds);
      expect(echo.stdout.toString()).toBe("hi\n");
      expect(echo.exitCode).toBe(0);
      const failing = await runtime.execSync(containerId, ["sh", "-c", "echo oops >&2; exit 7"], execTimeoutSeconds);
      expect(failing.exitCode).toBe(7);
      expect(failing.stderr.toString()).toBe("oops\n");
      expect((await runtime.execSync(containerId, ["sh", "-c", "echo $GREETING"], execTimeoutSeconds)).stdout.toString()).toBe("hi\n");
    });

    it("reports stats for the container, alone and in the sandbox's list", async () => {
      const stats = await runtime.containerStats(containerId);
      expect(stats.id).toBe(containerId);
      expect(stats.name).toBe("httpd");
      expect(stats.memoryWorkingSetBytes ?? 0).toBeGreaterThan(0);
      const listed = await runtime.listContainerStats({ sandboxId });
      expect(listed.map((entry) => entry.id)).toContain(containerId);
    });

    it("hands out streaming-server URLs for exec and port-forward", async () => {
      expect(await runtime.execUrl({ containerId, command: ["sh"], tty: false, stdin: true, stdout: true, stderr: true })).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/exec\//);
      expect(await runtime.portForwardUrl(sandboxId, [8080])).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/portforward\//);
    });

    it("lists the running container, then stops and removes container and sandbox", async () => {
      const running = await runtime.listContainers({ sandboxId, state: "Running" });
      expect(running.map((container) => container.id)).toEqual([containerId]);
      await runtime.stopContainer(containerId, stopGraceSeconds);
      expect((await runtime.containerStatus(containerId)).state).toBe("Exited");
      await runtime.removeContainer(containerId);
      expect((await runtime.listContainers({ sandboxId })).map((container) => container.id)).not.toContain(containerId);
      await runtime.stopSandbox(sandboxId);
      expect((await runtime.sandboxStatus(sandboxId)).state).toBe("NotReady");
      await runtime.removeSandbox(sandboxId);
      expect((await runtime.listSandboxes({ labels: { "flotilla.test/run": lab.prefix } })).map((entry) => entry.id)).not.toContain(sandboxId);
    });
  });

  it("a container that exits with code 3 shows Exited with exit code 3 and its output in a CRI log file", async () => {
    const config = sandboxConfig("exit");
    const sandboxId = await runtime.runSandbox(config);
    try {
      const command = ["sh", "-c", "echo out-line; echo err-line >&2; exit 3"];
      const containerId = await runtime.createContainer(sandboxId, containerConfig("quitter", command), config);
      await runtime.startContainer(containerId);
      const status = await waitForState(containerId, "Exited");
      expect(status.exitCode).toBe(3);
      expect(status.reason).toBe("Error");
      // containerd takes the start and exit times from different sources (runc's start, the
      // shim's exit); seen here 1 ms apart the "wrong" way for a container that exits at once.
      const clockSkewMsMax = 5;
      expect(status.finishedAtMs).toBeGreaterThanOrEqual(status.startedAtMs - clockSkewMsMax);
      expect(status.logPath).toBe(join(config.logDirectory, "quitter/0.log"));
      expect(await runtime.containerLogPath(containerId)).toBe(status.logPath);

      const lines = readFileSync(status.logPath, "utf8").trimEnd().split("\n");
      // CRI log format: RFC 3339 nano timestamp, stream, P(artial) or F(ull), the line.
      const criLine = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+(Z|[+-]\d\d:\d\d) (stdout|stderr) [PF] (.*)$/;
      const parsed = lines.map((line) => criLine.exec(line));
      expect(parsed.every((match) => match !== null)).toBe(true);
      expect(parsed.map((match) => `${match?.[2]} ${match?.[3]}`).sort()).toEqual(["stderr err-line", "stdout out-line"]);
    } finally {
      await runtime.stopSandbox(sandboxId);
      await runtime.removeSandbox(sandboxId);
    }
  });

  it("asking about an unknown container is a NotFound RuntimeError naming the method", async () => {
    const error = await runtime.containerStatus(`${lab.prefix}-no-such-container`).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(RuntimeError);
    expect((error as RuntimeError).kind).toBe("NotFound");
    expect((error as RuntimeError).message).toContain("RuntimeService/ContainerStatus");
  });
});
