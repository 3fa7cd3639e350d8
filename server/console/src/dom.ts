/**
 * A few DOM helpers: elements are built with createElement and text nodes only (never
 * innerHTML), which is what lets the page run under Trusted Types with no exceptions.
 */

/** Attributes of `h`: strings, booleans (present or not), or `on…` handlers. */
export type Attrs = Record<string, string | number | boolean | undefined | EventListener>;
/** Children of `h`: nodes, text, or nothing. */
export type Child = Node | string | number | false | null | undefined;

/** `h('li', {class: 'peer'}, 'Ada')`: an element with attributes and children. */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Attrs = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  setAttrs(element, attrs);
  append(element, children);
  return element;
}

/** Sets attributes on an element: `false` / `undefined` removes, `on*` adds a listener. */
export function setAttrs(element: Element, attrs: Attrs): void {
  for (const [name, value] of Object.entries(attrs)) {
    if (typeof value === 'function') {
      element.addEventListener(name.slice(2), value);
    } else if (value === false || value === undefined) {
      element.removeAttribute(name);
    } else {
      element.setAttribute(name, value === true ? '' : String(value));
    }
  }
}

/** Appends children, skipping empty ones. */
export function append(parent: Node, children: Child[]): void {
  for (const child of children) {
    if (child === false || child === null || child === undefined) continue;
    parent.appendChild(typeof child === 'object' ? child : document.createTextNode(String(child)));
  }
}

/** Replaces every child of `parent`. */
export function replaceChildren(parent: Element, ...children: Child[]): void {
  parent.replaceChildren();
  append(parent, children);
}

/** The element with this id (the page's skeleton has them all). */
export function byId<T extends HTMLElement = HTMLElement>(id: string): T {
  const element = document.getElementById(id);
  if (!element) throw new Error(`#${id} is missing from the page`);
  return element as T;
}

/** Sets text only when it changed (no needless layout or screen-reader chatter). */
export function setText(element: Element, text: string): void {
  if (element.textContent !== text) element.textContent = text;
}
