/** The controllers a replica runs under the kube-controller-manager Lease: services/controllers' set. */
import type { Controller } from "../../libs/client/index.ts";
import { allControllers } from "../controllers/index.ts";
import type { ControllersOptions } from "../controllers/index.ts";

export function loadControllers(options: ControllersOptions = {}): () => Promise<readonly Controller[]> {
  return () => Promise.resolve(allControllers(options));
}
