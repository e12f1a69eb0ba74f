/** etcdserverpb.Maintenance: status, alarms and the operator calls. */
import type { UntypedServiceImplementation } from "@grpc/grpc-js";
import type * as wire from "../../../libs/etcdpb/index.ts";
import type { StoreContext } from "../context.ts";
import { etcdErrors } from "../errors.ts";
import { encodeInternal, PayloadTag } from "../payload.ts";
import { unary } from "./grpc.ts";

type AlarmName = "NOSPACE" | "CORRUPT";

function activeAlarms(context: StoreContext): { memberID: string; alarm: AlarmName }[] {
  return [...context.stateMachine.alarms].map((entry) => {
    const [memberID, alarm] = entry.split("/") as [string, AlarmName];
    return { memberID, alarm };
  });
}

/** The etcd API version we implement; clients compare against it for feature checks. */
export const etcdCompatibleVersion = "3.5.0";

export function maintenanceService(context: StoreContext): UntypedServiceImplementation {
  const { logger, stateMachine, node } = context;
  return {
    Status: unary(logger, "Status", async (): Promise<wire.StatusResponse> => {
      const status = node.status();
      const size = stateMachine.sizeBytes;
      return {
        header: stateMachine.header(),
        version: etcdCompatibleVersion,
        dbSize: size,
        leader: String(node.leaderId),
        raftIndex: node.logRange().last,
        raftTerm: status.hardState.term,
        raftAppliedIndex: node.appliedIndex,
        errors: [...stateMachine.alarms].map((alarm) => `memberID:${alarm.split("/")[0]} alarm:${alarm.split("/")[1]}`),
        dbSizeInUse: size,
        isLearner: node.confState.learners.includes(node.id),
      };
    }),
    Alarm: unary(logger, "Alarm", async (request: wire.AlarmRequest__Output): Promise<wire.AlarmResponse> => {
      const matches = (alarm: { memberID: string; alarm: string }) =>
        (request.memberID === "0" || alarm.memberID === request.memberID) && (request.alarm === "NONE" || alarm.alarm === request.alarm);
      if (request.action === "GET") return { header: stateMachine.header(), alarms: activeAlarms(context).filter(matches) };
      const action = request.action === "ACTIVATE" ? "activate" : "deactivate";
      const targets =
        action === "activate" ? [{ memberID: request.memberID, alarm: request.alarm as AlarmName }] : activeAlarms(context).filter(matches);
      for (const target of targets) {
        if (target.alarm !== "NOSPACE" && target.alarm !== "CORRUPT") throw etcdErrors.alarmUnknown;
        await context.propose(encodeInternal(PayloadTag.Alarm, { action, memberId: target.memberID, alarm: target.alarm }));
      }
      return { header: stateMachine.header(), alarms: targets };
    }),
  };
}
