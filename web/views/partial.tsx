/**
 * An out-of-band fragment as an htmx 4 `<hx-partial>`: htmx parses each partial in its own
 * `<template>`, so table rows and bodies survive next to non-table elements (plain
 * `hx-swap-oob` rows are dropped by the HTML parser when they follow a `<header>`), and a
 * partial whose target is not on the page is skipped silently.
 */
import type { Child, FC } from 'hono/jsx';

/** Replaces the element with DOM id `target` by `children`. */
export const Partial: FC<{ target: string; swap?: string; children?: Child }> = ({ target, swap, children }) => (
  <hx-partial hx-target={`#${target}`} hx-swap={swap ?? 'outerHTML'}>
    {children}
  </hx-partial>
);
