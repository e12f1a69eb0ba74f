/** The controllers a replica runs under the kube-controller-manager Lease: services/controllers' set. */
import type { Controller } from "../../libs/client/index.ts";
import { allControllers } from "../controllers/index.ts";

export async function loadControllers(): Promise<readonly Controller[]> {
  return Promise.resolve(allControllers());
}
