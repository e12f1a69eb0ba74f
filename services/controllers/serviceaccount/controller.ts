/**
 * The ServiceAccount controller (pkg/controller/serviceaccount): every active namespace has a
 * ServiceAccount named `default`, made again if deleted. Tokens are not Secrets any more
 * (upstream stopped creating them in 1.24): pods get bound tokens from the API server's
 * TokenRequest, so this controller only keeps the account. Keys are namespace names.
 */
import { isStatusError } from "../../../libs/api/index.ts";
import type { Namespace, ServiceAccount } from "../../../libs/api/index.ts";
import type { Controller, ControllerContext, Informer } from "../../../libs/client/types.ts";
import { namespacesResource, serviceAccountsResource } from "../common/resources.ts";

export const defaultServiceAccountName = "default";

export class ServiceAccountController implements Controller {
  readonly name = "serviceaccount";
  #context: ControllerContext | undefined;
  #namespaces: Informer<Namespace> | undefined;
  #accounts: Informer<ServiceAccount> | undefined;

  setup(context: ControllerContext): void {
    this.#context = context;
    this.#namespaces = context.informers.informerFor<Namespace>(namespacesResource);
    this.#accounts = context.informers.informerFor<ServiceAccount>(serviceAccountsResource);
    this.#namespaces.addHandlers({ onAdd: (namespace) => context.queue.add(namespace.metadata.name ?? ""), onUpdate: (_previous, namespace) => context.queue.add(namespace.metadata.name ?? "") });
    this.#accounts.addHandlers({
      onDelete: (account) => {
        if (account.metadata.name === defaultServiceAccountName) context.queue.add(account.metadata.namespace ?? "");
      },
    });
  }

  async reconcile(namespaceName: string): Promise<void> {
    if (this.#context === undefined || this.#namespaces === undefined || this.#accounts === undefined) throw new Error("serviceaccount controller used before setup()");
    const namespace = this.#namespaces.get(namespaceName);
    if (namespace === undefined || (namespace.metadata.deletionTimestamp ?? null) !== null || namespace.status?.phase === "Terminating") return;
    if (this.#accounts.get(`${namespaceName}/${defaultServiceAccountName}`) !== undefined) return;
    const account: ServiceAccount = { apiVersion: "v1", kind: "ServiceAccount", metadata: { name: defaultServiceAccountName, namespace: namespaceName } };
    try {
      await this.#context.client.create(serviceAccountsResource, account);
    } catch (error) {
      // Already there (a lagging cache), or the namespace is going away: nothing to do.
      if (isStatusError(error, "AlreadyExists") || isStatusError(error, "NotFound") || isStatusError(error, "Forbidden")) return;
      throw error;
    }
  }
}
