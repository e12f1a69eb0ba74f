/**
 * Our copy of CRI runtime.v1 must match upstream name for name and number for number, or
 * containerd silently misreads our requests. Every expected number below was read from
 * kubernetes/kubernetes staging/src/k8s.io/cri-api/pkg/apis/runtime/v1/api.proto at commit
 * 0268656aec06fe837312d7ec3051e6b7f3dc6cde; none is derived from the file under test.
 */
import { fileURLToPath } from "node:url";
import * as protoLoader from "@grpc/proto-loader";
import { describe, expect, it } from "vitest";

const protoRoot = fileURLToPath(new URL("..", import.meta.url));

const cri = protoLoader.loadSync("cri/api.proto", { includeDirs: [protoRoot], keepCase: true, longs: String, enums: String, defaults: true });

interface FieldDescriptor {
  readonly name: string;
  readonly number: number;
  readonly type: string;
  readonly label: string;
}

function fieldNumbers(messageName: string): Record<string, number> {
  const definition = cri[`runtime.v1.${messageName}`];
  if (definition === undefined || !("format" in definition) || definition.format !== "Protocol Buffer 3 DescriptorProto") {
    throw new Error(`${messageName} is not a message in proto/cri/api.proto`);
  }
  const descriptor = definition.type as { field: FieldDescriptor[] };
  return Object.fromEntries(descriptor.field.map((field) => [field.name, field.number]));
}

function enumValues(enumName: string): Record<string, number> {
  const definition = cri[`runtime.v1.${enumName}`];
  if (definition === undefined || !("format" in definition) || definition.format !== "Protocol Buffer 3 EnumDescriptorProto") {
    throw new Error(`${enumName} is not an enum in proto/cri/api.proto`);
  }
  const descriptor = definition.type as { value: { name: string; number: number }[] };
  return Object.fromEntries(descriptor.value.map((value) => [value.name, value.number]));
}

function methods(serviceName: string): string[] {
  const definition = cri[`runtime.v1.${serviceName}`];
  if (definition === undefined || "format" in definition) throw new Error(`${serviceName} is not a service`);
  return Object.keys(definition);
}

describe("CRI runtime.v1 services", () => {
  it("are RuntimeService and ImageService under upstream's package name", () => {
    const services = Object.keys(cri).filter((name) => !("format" in (cri[name] ?? {})));
    expect(services.sort()).toEqual(["runtime.v1.ImageService", "runtime.v1.RuntimeService"]);
  });

  it("carry every method the agent calls", () => {
    expect(methods("RuntimeService").sort()).toEqual(
      [
        "Attach", "ContainerStats", "ContainerStatus", "CreateContainer", "Exec", "ExecSync", "ListContainerStats", "ListContainers",
        "ListPodSandbox", "PodSandboxStatus", "PortForward", "RemoveContainer", "RemovePodSandbox", "RunPodSandbox",
        "StartContainer", "Status", "StopContainer", "StopPodSandbox", "Version",
      ].sort(),
    );
    expect(methods("ImageService").sort()).toEqual(["ImageFsInfo", "ImageStatus", "ListImages", "PullImage", "RemoveImage"]);
  });

  it("use upstream's gRPC paths", () => {
    const definition = cri["runtime.v1.RuntimeService"] as protoLoader.ServiceDefinition;
    expect(definition["RunPodSandbox"]?.path).toBe("/runtime.v1.RuntimeService/RunPodSandbox");
  });
});

describe("CRI runtime.v1 field numbers", () => {
  it("PodSandboxConfig numbers its fields as upstream", () => {
    expect(fieldNumbers("PodSandboxConfig")).toEqual({
      metadata: 1, hostname: 2, log_directory: 3, dns_config: 4, port_mappings: 5, labels: 6, annotations: 7, linux: 8,
    });
    expect(fieldNumbers("LinuxPodSandboxConfig")).toEqual({ cgroup_parent: 1, security_context: 2, sysctls: 3, overhead: 4, resources: 5 });
  });

  it("the sandbox security context keeps run_as_group at 8 and seccomp at 9 (numbers out of line order)", () => {
    const numbers = fieldNumbers("LinuxSandboxSecurityContext");
    expect(numbers["run_as_group"]).toBe(8);
    expect(numbers["readonly_rootfs"]).toBe(4);
    expect(numbers["privileged"]).toBe(6);
    expect(numbers["seccomp"]).toBe(9);
  });

  it("ContainerConfig numbers its fields as upstream", () => {
    expect(fieldNumbers("ContainerConfig")).toEqual({
      metadata: 1, image: 2, command: 3, args: 4, working_dir: 5, envs: 6, mounts: 7, devices: 8, labels: 9, annotations: 10,
      log_path: 11, stdin: 12, stdin_once: 13, tty: 14, linux: 15,
    });
  });

  it("the container security context keeps no_new_privs at 11 and run_as_group at 12", () => {
    const numbers = fieldNumbers("LinuxContainerSecurityContext");
    expect(numbers["capabilities"]).toBe(1);
    expect(numbers["privileged"]).toBe(2);
    expect(numbers["run_as_user"]).toBe(5);
    expect(numbers["readonly_rootfs"]).toBe(7);
    expect(numbers["no_new_privs"]).toBe(11);
    expect(numbers["run_as_group"]).toBe(12);
  });

  it("LinuxContainerResources and the memory stats match upstream", () => {
    expect(fieldNumbers("LinuxContainerResources")).toEqual({
      cpu_period: 1, cpu_quota: 2, cpu_shares: 3, memory_limit_in_bytes: 4, oom_score_adj: 5, cpuset_cpus: 6, cpuset_mems: 7,
      hugepage_limits: 8, unified: 9, memory_swap_limit_in_bytes: 10,
    });
    expect(fieldNumbers("MemoryUsage")["working_set_bytes"]).toBe(2);
    expect(fieldNumbers("ContainerStats")).toEqual({ attributes: 1, cpu: 2, memory: 3, writable_layer: 4 });
  });

  it("ContainerStatus keeps exit_code at 7, reason at 10 and log_path at 15", () => {
    const numbers = fieldNumbers("ContainerStatus");
    expect(numbers["state"]).toBe(3);
    expect(numbers["finished_at"]).toBe(6);
    expect(numbers["exit_code"]).toBe(7);
    expect(numbers["reason"]).toBe(10);
    expect(numbers["log_path"]).toBe(15);
  });

  it("exec, port-forward, image and version messages match upstream", () => {
    expect(fieldNumbers("ExecSyncRequest")).toEqual({ container_id: 1, cmd: 2, timeout: 3 });
    expect(fieldNumbers("ExecSyncResponse")).toEqual({ stdout: 1, stderr: 2, exit_code: 3 });
    expect(fieldNumbers("ExecRequest")).toEqual({ container_id: 1, cmd: 2, tty: 3, stdin: 4, stdout: 5, stderr: 6 });
    expect(fieldNumbers("PortForwardRequest")).toEqual({ pod_sandbox_id: 1, port: 2 });
    expect(fieldNumbers("PullImageRequest")).toEqual({ image: 1, auth: 2, sandbox_config: 3 });
    expect(fieldNumbers("Image")).toEqual({ id: 1, repo_tags: 2, repo_digests: 3, size: 4, uid: 5, username: 6, spec: 7, pinned: 8 });
    expect(fieldNumbers("VersionResponse")).toEqual({ version: 1, runtime_name: 2, runtime_version: 3, runtime_api_version: 4 });
    expect(fieldNumbers("PodSandboxStatus")["network"]).toBe(5);
  });

  it("enums carry upstream's values", () => {
    expect(enumValues("ContainerState")).toEqual({ CONTAINER_CREATED: 0, CONTAINER_RUNNING: 1, CONTAINER_EXITED: 2, CONTAINER_UNKNOWN: 3 });
    expect(enumValues("PodSandboxState")).toEqual({ SANDBOX_READY: 0, SANDBOX_NOTREADY: 1 });
    expect(enumValues("Protocol")).toEqual({ TCP: 0, UDP: 1, SCTP: 2 });
    expect(enumValues("NamespaceMode")).toEqual({ POD: 0, CONTAINER: 1, NODE: 2, TARGET: 3 });
  });
});
