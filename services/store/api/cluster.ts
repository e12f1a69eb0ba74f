/**
 * etcdserverpb.Cluster: the member list and membership changes, with etcd's semantics and error
 * texts.
 *
 * Every change is decided on the leader. Only the leader knows which followers answer (the
 * strict reconfiguration checks need it), how far a learner has caught up (promotion needs it),
 * and whether another change is still pending (Raft refuses a second one there). A member that
 * does not lead forwards the request to the leader's peer port, where the same Cluster service
 * runs the change (etcd forwards promotions to its leader's peer URL the same way; we do it for
 * all four changes). Then it waits until it has applied the change itself, so that the member
 * list it answers with, and the next one it serves, include it.
 */
import type { sendUnaryData, ServerUnaryCall, UntypedServiceImplementation } from "@grpc/grpc-js";
import { status as grpcStatus } from "@grpc/grpc-js";
import { assert } from "../../../libs/assert/index.ts";
import type * as wire from "../../../libs/etcdpb/index.ts";
import type { NodeId } from "../../../libs/raft/index.ts";
import { computeMemberId, urlText } from "../config.ts";
import { toEtcdError, type StoreContext } from "../context.ts";
import { EtcdError, etcdErrors } from "../errors.ts";
import { memberList } from "../members.ts";
import { callPeerCluster, isLeaderMiss, type PeerClusterMethod } from "../peer-client.ts";
import { PeerActivity, answeringPeers, checkAddMember, checkPromoteMember, checkRemoveMember, type ClusterView } from "../reconfig.ts";
import { unary } from "./grpc.ts";

/** Tries of a forwarded change when the leader moves or cannot be reached. */
const forwardAttemptsMax = 5;
/** Fresh ids tried for a new member before giving up (a collision needs 53 equal bits). */
const memberIdAttemptsMax = 16;

const activities = new WeakMap<StoreContext, PeerActivity>();

/**
 * Samples, once per heartbeat, which followers answer this member while it leads: the strict
 * reconfiguration checks need to know who has been connected for etcd's health interval.
 * Returns the function that stops sampling.
 */
export function startMembershipMonitor(context: StoreContext): () => void {
  const activity = new PeerActivity(context.config.electionTimeoutMs);
  activities.set(context, activity);
  const timer = setInterval(() => {
    const status = context.node.status();
    activity.observe(Date.now(), answeringPeers(context.node.id, status.progress));
  }, context.config.heartbeatIntervalMs);
  return () => clearInterval(timer);
}

type Handler = (call: ServerUnaryCall<unknown, unknown>, callback: sendUnaryData<unknown>) => void;

export function clusterService(context: StoreContext): UntypedServiceImplementation {
  const { logger } = context;
  return {
    MemberList: unary(logger, "MemberList", async (request: wire.MemberListRequest__Output) => listMembers(context, request)),
    MemberAdd: unary(logger, "MemberAdd", async (request: wire.MemberAddRequest__Output) =>
      decideOnLeader<wire.MemberAddResponse>(context, "MemberAdd", request, () => addMember(context, request)),
    ),
    MemberRemove: unary(logger, "MemberRemove", async (request: wire.MemberRemoveRequest__Output) =>
      decideOnLeader<wire.MemberRemoveResponse>(context, "MemberRemove", request, () => removeMember(context, request)),
    ),
    MemberUpdate: unary(logger, "MemberUpdate", async (request: wire.MemberUpdateRequest__Output) =>
      decideOnLeader<wire.MemberUpdateResponse>(context, "MemberUpdate", request, () => updateMember(context, request)),
    ),
    MemberPromote: unary(logger, "MemberPromote", async (request: wire.MemberPromoteRequest__Output) =>
      decideOnLeader<wire.MemberPromoteResponse>(context, "MemberPromote", request, () => promoteMember(context, request)),
    ),
  };
}

/**
 * The Cluster service on the peer port: MemberList for members joining an existing cluster, and
 * the changes other members forward, run only while this member leads (never forwarded again).
 * The peer server starts before the client API exists, so the context arrives later; until then
 * calls are refused.
 */
export function peerClusterService(contextRef: { readonly current?: StoreContext }): UntypedServiceImplementation {
  const deferred = (build: (context: StoreContext) => Handler): Handler => (call, callback) => {
    const context = contextRef.current;
    if (context === undefined) callback({ code: grpcStatus.UNAVAILABLE, details: "etcdserver: member is starting" }, null);
    else build(context)(call, callback);
  };
  const onLeader = <Request, Response>(method: PeerClusterMethod, action: (context: StoreContext, request: Request) => Promise<Response>): Handler =>
    deferred((context) => unary(context.logger, `peer ${method}`, async (request: Request) => {
      if (!context.node.isLeader) throw context.node.leaderId === 0 ? etcdErrors.noLeader : etcdErrors.notLeader;
      return action(context, request);
    }) as Handler);
  return {
    MemberList: deferred((context) => unary(context.logger, "peer MemberList", async (request: wire.MemberListRequest__Output) => listMembers(context, request)) as Handler),
    MemberAdd: onLeader("MemberAdd", addMember),
    MemberRemove: onLeader("MemberRemove", removeMember),
    MemberUpdate: onLeader("MemberUpdate", updateMember),
    MemberPromote: onLeader("MemberPromote", promoteMember),
  };
}

async function listMembers(context: StoreContext, request: wire.MemberListRequest__Output): Promise<wire.MemberListResponse> {
  if (request.linearizable) await context.readBarrier();
  forgetRemovedMembers(context);
  return { header: context.stateMachine.header(), members: memberList(context) };
}

/**
 * Runs `local` when this member leads, else forwards the request to the leader's peer port and
 * then waits until this member has applied the change. Retries (bounded) only when the callee
 * did nothing: it no longer led, or could not be reached.
 */
async function decideOnLeader<Response extends { header?: unknown; members?: unknown }>(
  context: StoreContext,
  method: PeerClusterMethod,
  request: object,
  local: () => Promise<Response>,
): Promise<Response> {
  const { node, config, stateMachine } = context;
  const deadlineMs = Date.now() + 5000 + 2 * config.electionTimeoutMs;
  let lastError: unknown = etcdErrors.noLeader;
  for (let attempt = 1; attempt <= forwardAttemptsMax && Date.now() < deadlineMs; attempt++) {
    if (node.isLeader) return local();
    const leaderUrl = node.leaderId === 0 ? undefined : node.peers.get(node.leaderId);
    if (leaderUrl !== undefined) {
      try {
        const response = await callPeerCluster<Response>(config, leaderUrl, method, request, deadlineMs);
        await context.readBarrier();
        forgetRemovedMembers(context);
        return { ...response, header: stateMachine.header(), members: memberList(context) };
      } catch (error) {
        if (!isLeaderMiss(error)) throw error;
        lastError = error;
      }
    }
    await new Promise((resolve) => setTimeout(resolve, config.electionTimeoutMs / 2));
  }
  // The leader never answered: say so in etcd's words rather than with a transport message.
  throw lastError instanceof EtcdError && lastError.message.startsWith("etcdserver:") ? lastError : etcdErrors.unhealthy;
}

function clusterView(context: StoreContext): ClusterView {
  const { node, stateMachine } = context;
  const { voters, learners } = node.confState;
  const started = new Set([...voters, ...learners].filter((id) => (stateMachine.members.get(String(id))?.name ?? "") !== ""));
  const connectedSinceMs = activities.get(context)?.connectedSince() ?? new Map<NodeId, number>();
  return { selfId: node.id, voters, learners, started, connectedSinceMs, nowMs: Date.now() };
}

function refuse(error: EtcdError | undefined): void {
  if (error !== undefined) throw error;
}

/** A Raft membership change, its failures as etcd's errors. */
async function change<T>(action: () => Promise<T>): Promise<T> {
  try {
    return await action();
  } catch (error) {
    throw toEtcdError(error);
  }
}

async function addMember(context: StoreContext, request: wire.MemberAddRequest__Output): Promise<wire.MemberAddResponse> {
  const { node, stateMachine, logger } = context;
  const peerUrls = parseMemberUrls(request.peerURLs);
  refuse(checkAddMember(clusterView(context), request.isLearner));
  if (peerUrlsTaken(context, peerUrls, 0)) throw etcdErrors.peerUrlExists;
  const id = newMemberId(context, peerUrls, Date.now());
  await change(() => node.addMember(id, peerUrls.join(","), { learner: request.isLearner }));
  logger.info({ memberId: id.toString(16), peerUrls, isLearner: request.isLearner }, "added member");
  const members = memberList(context);
  const member = members.find((candidate) => candidate.ID === String(id)) ?? { ID: String(id), name: "", peerURLs: peerUrls, clientURLs: [], isLearner: request.isLearner };
  return { header: stateMachine.header(), member, members };
}

async function removeMember(context: StoreContext, request: wire.MemberRemoveRequest__Output): Promise<wire.MemberRemoveResponse> {
  const { node, stateMachine, logger } = context;
  const id = memberIdFromWire(request.ID);
  refuse(checkRemoveMember(clusterView(context), id));
  await change(() => node.removeMember(id));
  forgetRemovedMembers(context);
  logger.info({ memberId: id.toString(16) }, "removed member");
  return { header: stateMachine.header(), members: memberList(context) };
}

async function updateMember(context: StoreContext, request: wire.MemberUpdateRequest__Output): Promise<wire.MemberUpdateResponse> {
  const { node, stateMachine, logger } = context;
  const id = memberIdFromWire(request.ID);
  const peerUrls = parseMemberUrls(request.peerURLs);
  if (!isMember(context, id)) throw etcdErrors.memberNotFound;
  if (peerUrlsTaken(context, peerUrls, id)) throw etcdErrors.peerUrlExists;
  await change(() => node.updateMember(id, peerUrls.join(",")));
  logger.info({ memberId: id.toString(16), peerUrls }, "updated member peer URLs");
  return { header: stateMachine.header(), members: memberList(context) };
}

async function promoteMember(context: StoreContext, request: wire.MemberPromoteRequest__Output): Promise<wire.MemberPromoteResponse> {
  const { node, stateMachine, logger } = context;
  const id = memberIdFromWire(request.ID);
  refuse(checkPromoteMember(clusterView(context), id));
  await change(() => node.promoteMember(id));
  logger.info({ memberId: id.toString(16) }, "promoted learner to voter");
  return { header: stateMachine.header(), members: memberList(context) };
}

/** etcd's types.NewURLs for member URLs: at least one, http(s)://host:port without a path; sorted. */
export function parseMemberUrls(texts: readonly string[]): string[] {
  if (texts.length === 0) throw etcdErrors.memberBadUrls;
  const urls = texts.map((text) => {
    let url: URL;
    try {
      url = new URL(text.trim());
    } catch {
      throw etcdErrors.memberBadUrls;
    }
    const hasPath = url.pathname !== "/" && url.pathname !== "";
    if ((url.protocol !== "http:" && url.protocol !== "https:") || url.port === "" || hasPath || url.search !== "") throw etcdErrors.memberBadUrls;
    return urlText(url);
  });
  return urls.sort();
}

function isMember(context: StoreContext, id: NodeId): boolean {
  const { voters, learners } = context.node.confState;
  return voters.includes(id) || learners.includes(id);
}

/** Whether any of `urls` is a peer URL of a member other than `exceptId`. */
function peerUrlsTaken(context: StoreContext, urls: readonly string[], exceptId: NodeId): boolean {
  for (const [id, address] of context.node.peers) {
    if (id === exceptId || !isMember(context, id)) continue;
    if (address.split(",").some((url) => urls.includes(url))) return true;
  }
  return false;
}

/** etcd's id for a member added at `addedAtMs` (SHA-1 of its URLs and the time), moved on past any id already known here. */
function newMemberId(context: StoreContext, peerUrls: readonly string[], addedAtMs: number): NodeId {
  const known = (id: NodeId): boolean => isMember(context, id) || context.node.peers.has(id) || context.stateMachine.members.has(String(id));
  for (let attempt = 0; attempt < memberIdAttemptsMax; attempt++) {
    const id = computeMemberId(peerUrls, "", addedAtMs + attempt);
    if (!known(id)) return id;
  }
  assert(false, "a fresh member id is found", () => `${memberIdAttemptsMax} ids from ${addedAtMs} are taken`);
}

function memberIdFromWire(text: string): NodeId {
  const id = Number(text);
  if (!Number.isSafeInteger(id) || id <= 0) throw etcdErrors.memberNotFound;
  return id;
}

/**
 * Drops the published name and client URLs of members no longer in the configuration. Every
 * member does it on its own: attributes are published only after the member's addition is
 * applied, so attributes without a member mean a removed member on every member alike.
 */
function forgetRemovedMembers(context: StoreContext): void {
  const { voters, learners } = context.node.confState;
  const current = new Set([...voters, ...learners].map(String));
  for (const id of [...context.stateMachine.members.keys()]) if (!current.has(id)) context.stateMachine.forgetMember(id);
}
