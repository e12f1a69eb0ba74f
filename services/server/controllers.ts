/**
 * The controllers a replica runs: services/controllers' `allControllers()`. Loaded by a computed
 * path so that the server starts (with the scheduler alone) while that entry file is still being
 * written; once it exists this becomes a plain import.
 */
import type { Controller } from "../../libs/client/index.ts";

const controllersEntry = "../controllers/index.ts";

export async function loadControllers(): Promise<readonly Controller[]> {
  let loaded: { allControllers?: () => readonly Controller[] };
  try {
    loaded = (await import(controllersEntry)) as { allControllers?: () => readonly Controller[] };
  } catch (error) {
    if ((error as { code?: unknown }).code === "ERR_MODULE_NOT_FOUND" && String((error as Error).message).includes("controllers/index.ts")) return [];
    throw new Error("load services/controllers", { cause: error });
  }
  return loaded.allControllers?.() ?? [];
}
