/**
 * The device addresses that running device config nodes use. Two config nodes for one WLED
 * device each have their own request lane, so together they can put two requests on the wire
 * at once, and the firmware replies to that with busy responses or resets.
 */
export class AddressRegistry {
  private readonly users = new Map<string, Map<string, string>>();

  /** Records that node `id` (shown as `name`) uses `baseUrl`; returns the names of the other
   *  nodes that already use it. */
  add(baseUrl: string, id: string, name: string): string[] {
    const nodes = this.users.get(baseUrl) ?? new Map<string, string>();
    this.users.set(baseUrl, nodes);
    const others = [...nodes].filter(([otherId]) => otherId !== id).map(([, other]) => other);
    nodes.set(id, name);
    return others;
  }

  remove(baseUrl: string, id: string): void {
    const nodes = this.users.get(baseUrl);
    nodes?.delete(id);
    if (nodes?.size === 0) {
      this.users.delete(baseUrl);
    }
  }
}
