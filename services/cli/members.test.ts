import { describe, expect, it } from "vitest";
import type { Member__Output } from "../../libs/etcdpb/index.ts";
import { parseArgs } from "./kubectl/flags.ts";
import { findMember, joinCommand, memberRows, membersFlags, printMembers, removalRefusal, removeAttemptsMax, removeWhileUnhealthy } from "./members.ts";

const member = (name: string, id: string, isLearner = false): Member__Output => ({ name, ID: id, isLearner, peerURLs: [`http://${name}:2380`], clientURLs: [`http://${name}:2379`] });
const one = member("one", "3735928559");
const two = member("two", "255");
const learner = member("three", "4096", true);

describe("members", () => {
  it("lists members with hex ids and the leader marked", () => {
    expect(printMembers(memberRows([one, two], "255"))).toBe(
      "NAME   ID         LEADER   LEARNER   PEER URLS         CLIENT URLS\n" +
        "one    deadbeef   false    false     http://one:2380   http://one:2379\n" +
        "two    ff         true     false     http://two:2380   http://two:2379\n",
    );
  });

  it("finds a member by name, hex id or decimal id", () => {
    expect(findMember([one, two], "two")).toBe(two);
    expect(findMember([one, two], "0xDEADBEEF")).toBe(one);
    expect(findMember([one, two], "255")).toBe(two);
    expect(() => findMember([one, two], "nine")).toThrow('no store member is named or numbered "nine"');
  });

  it("refuses to remove the last voter but not a learner or one of several voters", () => {
    expect(removalRefusal([one, learner], one)).toContain("one is the store's last voting member");
    expect(removalRefusal([one, learner], learner)).toBeUndefined();
    expect(removalRefusal([one, two], one)).toBeUndefined();
  });

  it("prints the join command with the flags given", () => {
    const parsed = parseArgs(["add", "b", "--advertise-address", "10.0.0.2", "--api-port=7443", "--data-dir", "/srv/f"], membersFlags);
    expect(joinCommand("https://10.0.0.1:6443", "K10abc::id.secret", "b", parsed)).toBe(
      "flotilla server --join https://10.0.0.1:6443 --token K10abc::id.secret --name b --advertise-address 10.0.0.2 --api-port=7443 --data-dir=/srv/f",
    );
  });

  it("retries a removal the store refuses as an unhealthy cluster, a bounded number of times", async () => {
    let calls = 0;
    const waits: number[] = [];
    const flaky = async (): Promise<void> => {
      calls++;
      if (calls < 3) throw new Error("the store refused: etcdserver: unhealthy cluster");
    };
    await removeWhileUnhealthy(flaky, async (ms) => { waits.push(ms); });
    expect(calls).toBe(3);
    expect(waits).toEqual([1000, 1000]);

    let refused = 0;
    const always = async (): Promise<void> => {
      refused++;
      throw new Error("the store refused: etcdserver: unhealthy cluster");
    };
    await expect(removeWhileUnhealthy(always, async () => {})).rejects.toThrow(/unhealthy cluster \(15 attempts/);
    expect(refused).toBe(removeAttemptsMax);

    let other = 0;
    const notFound = async (): Promise<void> => {
      other++;
      throw new Error("the store refused: etcdserver: member not found");
    };
    await expect(removeWhileUnhealthy(notFound, async () => {})).rejects.toThrow(/member not found/);
    expect(other).toBe(1);
  });
});
