/**
 * An ordered map from binary-string keys to values (a B+tree with linked leaves), where every entry
 * carries a weight (0 or 1 here: "the key is live at the newest revision") and each branch keeps
 * the weight of its subtrees. Ordered scans start with a descent and then walk leaves, so a range
 * with a limit costs O(log n + limit); `weightBelow` counts live keys before a bound in O(log n).
 * The store only inserts keys and changes weights between compactions; compaction removes keys by
 * rebuilding the tree in one O(n) pass (it visits every key anyway), so there is no delete path.
 */
import { assert } from "../assert/index.ts";

/** Entries per leaf and children per branch; 64 keeps nodes within a few cache lines of pointers. */
const nodeEntriesMax = 64;
/** Bulk loads fill nodes to this, leaving room for inserts before the first split. */
const bulkFillEntries = 48;

interface Leaf<V> {
  readonly isLeaf: true;
  keys: string[];
  values: V[];
  weights: number[];
  weight: number;
  next: Leaf<V> | undefined;
}

interface Branch<V> {
  readonly isLeaf: false;
  /** keys[i] is the smallest key of children[i + 1]. */
  keys: string[];
  children: TreeNode<V>[];
  weights: number[];
  weight: number;
}

type TreeNode<V> = Leaf<V> | Branch<V>;

interface Split<V> {
  readonly separator: string;
  readonly right: TreeNode<V>;
}

/** First index whose key is >= target. */
function lowerBound(keys: readonly string[], target: string): number {
  let low = 0;
  let high = keys.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if ((keys[middle] as string) < target) low = middle + 1;
    else high = middle;
  }
  return low;
}

/** First index whose key is > target: the child of a branch that holds target. */
function upperBound(keys: readonly string[], target: string): number {
  let low = 0;
  let high = keys.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if ((keys[middle] as string) <= target) low = middle + 1;
    else high = middle;
  }
  return low;
}

function sumOf(values: readonly number[], end: number): number {
  let sum = 0;
  for (let i = 0; i < end; i++) sum += values[i] as number;
  return sum;
}

function newLeaf<V>(keys: string[], values: V[], weights: number[]): Leaf<V> {
  return { isLeaf: true, keys, values, weights, weight: sumOf(weights, weights.length), next: undefined };
}

function newBranch<V>(keys: string[], children: TreeNode<V>[]): Branch<V> {
  const weights = children.map((child) => child.weight);
  return { isLeaf: false, keys, children, weights, weight: sumOf(weights, weights.length) };
}

export interface TreeEntry<V> {
  readonly key: string;
  readonly value: V;
  readonly weight: number;
}

export class WeightedTree<V> {
  #root: TreeNode<V> = newLeaf<V>([], [], []);
  #size = 0;

  get size(): number {
    return this.#size;
  }

  get totalWeight(): number {
    return this.#root.weight;
  }

  get(key: string): V | undefined {
    const leaf = this.#leafFor(key);
    const index = lowerBound(leaf.keys, key);
    return leaf.keys[index] === key ? leaf.values[index] : undefined;
  }

  /** Adds a key that is not yet present. */
  insert(key: string, value: V, weight: number): void {
    const split = this.#insertInto(this.#root, key, value, weight);
    if (split !== undefined) this.#root = newBranch([split.separator], [this.#root, split.right]);
    this.#size++;
  }

  /** Sets the weight of a present key, fixing the sums on its path. */
  setWeight(key: string, weight: number): void {
    const path: { branch: Branch<V>; index: number }[] = [];
    let node = this.#root;
    while (!node.isLeaf) {
      const index = upperBound(node.keys, key);
      path.push({ branch: node, index });
      node = node.children[index] as TreeNode<V>;
    }
    const position = lowerBound(node.keys, key);
    assert(node.keys[position] === key, "setWeight on a present key");
    const delta = weight - (node.weights[position] as number);
    if (delta === 0) return;
    node.weights[position] = weight;
    node.weight += delta;
    for (const { branch, index } of path) {
      branch.weights[index] = (branch.weights[index] as number) + delta;
      branch.weight += delta;
    }
  }

  /** Total weight of the keys strictly below `key`. */
  weightBelow(key: string): number {
    let sum = 0;
    let node = this.#root;
    while (!node.isLeaf) {
      const index = upperBound(node.keys, key);
      sum += sumOf(node.weights, index);
      node = node.children[index] as TreeNode<V>;
    }
    return sum + sumOf(node.weights, lowerBound(node.keys, key));
  }

  /**
   * Visits keys >= start in order until `visit` returns false. `visit` must not insert keys (it
   * may change weights).
   */
  scan(start: string, visit: (key: string, value: V) => boolean): void {
    let leaf: Leaf<V> | undefined = this.#leafFor(start);
    let index = lowerBound(leaf.keys, start);
    while (leaf !== undefined) {
      for (; index < leaf.keys.length; index++) {
        if (!visit(leaf.keys[index] as string, leaf.values[index] as V)) return;
      }
      leaf = leaf.next;
      index = 0;
    }
  }

  /**
   * Visits the values of keys in [start, end) in order (end "" = no bound) until `visit` returns
   * false. Whole leaves below `end` skip the per-key bound check, so a scan touches only values.
   */
  scanValues(start: string, end: string, visit: (value: V) => boolean): void {
    let leaf: Leaf<V> | undefined = this.#leafFor(start);
    let index = lowerBound(leaf.keys, start);
    while (leaf !== undefined) {
      const keys = leaf.keys;
      const stop = end === "" || (keys.at(-1) ?? "") < end ? keys.length : lowerBound(keys, end);
      for (; index < stop; index++) if (!visit(leaf.values[index] as V)) return;
      if (stop < keys.length) return;
      leaf = leaf.next;
      index = 0;
    }
  }

  /** Replaces the whole content with `entries`, which must be sorted by key without duplicates. */
  rebuild(entries: readonly TreeEntry<V>[]): void {
    const leaves: Leaf<V>[] = [];
    for (let offset = 0; offset < entries.length; offset += bulkFillEntries) {
      const slice = entries.slice(offset, offset + bulkFillEntries);
      leaves.push(newLeaf(slice.map((e) => e.key), slice.map((e) => e.value), slice.map((e) => e.weight)));
    }
    for (let i = 0; i + 1 < leaves.length; i++) {
      const leaf = leaves[i] as Leaf<V>;
      const next = leaves[i + 1] as Leaf<V>;
      assert((leaf.keys.at(-1) as string) < (next.keys[0] as string), "rebuild entries sorted");
      leaf.next = next;
    }
    let level: TreeNode<V>[] = leaves.length === 0 ? [newLeaf<V>([], [], [])] : leaves;
    while (level.length > 1) level = this.#branchLevel(level);
    this.#root = level[0] as TreeNode<V>;
    this.#size = entries.length;
  }

  #branchLevel(level: readonly TreeNode<V>[]): TreeNode<V>[] {
    const parents: TreeNode<V>[] = [];
    for (let offset = 0; offset < level.length; offset += bulkFillEntries) {
      const children = level.slice(offset, offset + bulkFillEntries);
      const separators = children.slice(1).map((child) => smallestKey(child));
      parents.push(newBranch(separators, children));
    }
    return parents;
  }

  #leafFor(key: string): Leaf<V> {
    let node = this.#root;
    while (!node.isLeaf) node = node.children[upperBound(node.keys, key)] as TreeNode<V>;
    return node;
  }

  #insertInto(node: TreeNode<V>, key: string, value: V, weight: number): Split<V> | undefined {
    if (node.isLeaf) return this.#insertIntoLeaf(node, key, value, weight);
    const index = upperBound(node.keys, key);
    const child = node.children[index] as TreeNode<V>;
    const split = this.#insertInto(child, key, value, weight);
    node.weight += weight;
    if (split === undefined) {
      node.weights[index] = (node.weights[index] as number) + weight;
      return undefined;
    }
    node.weights[index] = child.weight;
    node.children.splice(index + 1, 0, split.right);
    node.weights.splice(index + 1, 0, split.right.weight);
    node.keys.splice(index, 0, split.separator);
    return node.children.length > nodeEntriesMax ? splitBranch(node) : undefined;
  }

  #insertIntoLeaf(leaf: Leaf<V>, key: string, value: V, weight: number): Split<V> | undefined {
    const position = lowerBound(leaf.keys, key);
    assert(leaf.keys[position] !== key, "insert of an absent key");
    leaf.keys.splice(position, 0, key);
    leaf.values.splice(position, 0, value);
    leaf.weights.splice(position, 0, weight);
    leaf.weight += weight;
    if (leaf.keys.length <= nodeEntriesMax) return undefined;
    const half = leaf.keys.length >>> 1;
    const right = newLeaf(leaf.keys.splice(half), leaf.values.splice(half), leaf.weights.splice(half));
    leaf.weight -= right.weight;
    right.next = leaf.next;
    leaf.next = right;
    return { separator: right.keys[0] as string, right };
  }
}

function smallestKey<V>(node: TreeNode<V>): string {
  let current = node;
  while (!current.isLeaf) current = current.children[0] as TreeNode<V>;
  return current.keys[0] as string;
}

function splitBranch<V>(branch: Branch<V>): Split<V> {
  const half = branch.children.length >>> 1;
  const rightChildren = branch.children.splice(half);
  const rightWeights = branch.weights.splice(half);
  const separator = branch.keys[half - 1] as string;
  const rightKeys = branch.keys.splice(half);
  branch.keys.length = half - 1;
  const right: Branch<V> = { isLeaf: false, keys: rightKeys, children: rightChildren, weights: rightWeights, weight: sumOf(rightWeights, rightWeights.length) };
  branch.weight -= right.weight;
  return { separator, right };
}
