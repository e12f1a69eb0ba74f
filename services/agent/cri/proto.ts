/** Loads proto/cri/api.proto once, with the options wire.ts describes. */
import { loadPackageDefinition, type ServiceClientConstructor } from "@grpc/grpc-js";
import { loadSync, type Options } from "@grpc/proto-loader";
import { fileURLToPath } from "node:url";

const protoRoot = fileURLToPath(new URL("../../../proto", import.meta.url));

export const criProtoLoaderOptions: Options = {
  keepCase: true,
  // int64 timestamps are nanoseconds since the epoch: beyond 2^53, so decimal strings.
  longs: String,
  enums: String,
  defaults: true,
  includeDirs: [protoRoot],
};

export interface CriServices {
  readonly RuntimeService: ServiceClientConstructor;
  readonly ImageService: ServiceClientConstructor;
}

let loaded: CriServices | undefined;

export function loadCriServices(): CriServices {
  if (loaded === undefined) {
    const root = loadPackageDefinition(loadSync("cri/api.proto", criProtoLoaderOptions)) as unknown as { runtime: { v1: CriServices } };
    loaded = root.runtime.v1;
  }
  return loaded;
}
