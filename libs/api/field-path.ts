/**
 * Field paths as upstream prints them in validation errors (k8s.io/apimachinery field.Path):
 * names joined by ".", list indexes and map keys in brackets:
 * `spec.template.spec.containers[0].image`, `metadata.labels[app]`. Immutable.
 */

type Segment = { readonly kind: "name"; readonly name: string } | { readonly kind: "subscript"; readonly subscript: string };

export class FieldPath {
  readonly #segments: readonly Segment[];

  private constructor(segments: readonly Segment[]) {
    this.#segments = segments;
  }

  /** A path starting at `name`, then each of `more` (field.NewPath). */
  static of(name: string, ...more: string[]): FieldPath {
    return new FieldPath([name, ...more].map((part) => ({ kind: "name", name: part })));
  }

  /** The empty path: its children print without a leading dot, like upstream's nil parent. */
  static root(): FieldPath {
    return new FieldPath([]);
  }

  child(name: string, ...more: string[]): FieldPath {
    const added: Segment[] = [name, ...more].map((part) => ({ kind: "name", name: part }));
    return new FieldPath([...this.#segments, ...added]);
  }

  index(position: number): FieldPath {
    return new FieldPath([...this.#segments, { kind: "subscript", subscript: String(position) }]);
  }

  key(mapKey: string): FieldPath {
    return new FieldPath([...this.#segments, { kind: "subscript", subscript: mapKey }]);
  }

  toString(): string {
    let out = "";
    this.#segments.forEach((segment, position) => {
      if (segment.kind === "subscript") {
        out += `[${segment.subscript}]`;
        return;
      }
      // Upstream writes a dot only between a parent and a named child, and an empty name acts
      // as a subscript-less step; names are never empty in practice.
      if (position > 0) out += ".";
      out += segment.name;
    });
    return out;
  }
}

/** Shorthand for FieldPath.of. */
export function fieldPath(name: string, ...more: string[]): FieldPath {
  return FieldPath.of(name, ...more);
}
