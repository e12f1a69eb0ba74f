/**
 * The member list as etcd's Cluster API shows it: Raft's configuration (voters and learners) and
 * peer URLs, joined with the names and client URLs each member publishes through the log.
 */
import type * as wire from "../../libs/etcdpb/index.ts";
import type { StoreContext } from "./context.ts";

export function memberList(context: StoreContext): wire.Member[] {
  const { node, stateMachine } = context;
  const confState = node.confState;
  const ids = [...confState.voters, ...confState.learners];
  return ids.map((id) => {
    const attributes = stateMachine.members.get(String(id));
    const peerUrl = node.peers.get(id);
    return {
      ID: String(id),
      name: attributes?.name ?? "",
      peerURLs: peerUrl === undefined ? [] : peerUrl.split(","),
      clientURLs: [...(attributes?.clientUrls ?? [])],
      isLearner: confState.learners.includes(id),
    };
  });
}
