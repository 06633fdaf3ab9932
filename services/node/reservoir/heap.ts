/** A binary heap: `before(a, b)` is true when `a` must come out before `b`. */
export class Heap<T> {
  readonly #items: T[] = [];
  readonly #before: (a: T, b: T) => boolean;

  constructor(before: (a: T, b: T) => boolean, items?: T[]) {
    this.#before = before;
    if (items !== undefined) {
      this.#items = items;
      for (let i = (items.length >> 1) - 1; i >= 0; i--) {
        this.#down(i);
      }
    }
  }

  get size(): number {
    return this.#items.length;
  }

  peek(): T | undefined {
    return this.#items[0];
  }

  push(item: T): void {
    this.#items.push(item);
    this.#up(this.#items.length - 1);
  }

  pop(): T | undefined {
    const items = this.#items;
    const top = items[0];
    const last = items.pop();
    if (items.length > 0 && last !== undefined) {
      items[0] = last;
      this.#down(0);
    }
    return top;
  }

  #up(i: number): void {
    const items = this.#items;
    const x = items[i]!;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const p = items[parent]!;
      if (!this.#before(x, p)) {
        break;
      }
      items[i] = p;
      i = parent;
    }
    items[i] = x;
  }

  #down(i: number): void {
    const items = this.#items;
    const n = items.length;
    const x = items[i]!;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) {
        break;
      }
      const r = l + 1;
      const c = r < n && this.#before(items[r]!, items[l]!) ? r : l;
      if (!this.#before(items[c]!, x)) {
        break;
      }
      items[i] = items[c]!;
      i = c;
    }
    items[i] = x;
  }
}
