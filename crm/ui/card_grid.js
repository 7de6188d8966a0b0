// The customer card grid: one element for a whole page of cards.
//
// Streamlit elements cost the browser ~2 ms of script each to draw, and a
// page of cards built from them (containers, a page link, HTML, two buttons
// per card) took 300-500 ms of script on every search. This draws the same
// cards with plain DOM calls in a few milliseconds.
//
// Every text comes from data and is set with textContent, never parsed as
// HTML; the only URL set from data is a "data:image/..." picture (checked).

const ICONS = {
  mail: "M20 4H4c-1.1 0-1.99.9-1.99 2L2 18c0 1.1.9 2 2 2h16c1.1 0 2-.9 2-2V6c0-1.1-.9-2-2-2zm0 14H4V8l8 5 8-5v10zm-8-7L4 6h16l-8 5z",
  call: "M6.54 5c.06.89.21 1.76.45 2.59l-1.2 1.2c-.41-1.2-.67-2.47-.76-3.79h1.51m9.86 12.02c.85.24 1.72.39 2.6.45v1.49c-1.32-.09-2.59-.35-3.8-.75l1.2-1.19M7.5 3H4c-.55 0-1 .45-1 1 0 9.39 7.61 17 17 17 .55 0 1-.45 1-1v-3.49c0-.55-.45-1-1-1-1.24 0-2.45-.2-3.57-.57-.1-.04-.21-.05-.31-.05-.26 0-.51.1-.71.29l-2.2 2.2c-2.83-1.45-5.15-3.76-6.59-6.59l2.2-2.2c.28-.28.36-.67.25-1.02C8.7 6.45 8.5 5.25 8.5 4c0-.55-.45-1-1-1z",
  place: "M12 2C8.13 2 5 5.13 5 9c0 5.25 7 13 7 13s7-7.75 7-13c0-3.87-3.13-7-7-7zM7 9c0-2.76 2.24-5 5-5s5 2.24 5 5c0 2.88-2.88 7.19-5 9.88C9.92 16.21 7 11.85 7 9zm5 2.5a2.5 2.5 0 1 0 0-5 2.5 2.5 0 0 0 0 5z",
  edit: "M3 17.25V21h3.75L17.81 9.94l-3.75-3.75L3 17.25zM5.92 19H5v-.92l9.06-9.06.92.92L5.92 19zM20.71 5.63l-2.34-2.34c-.2-.2-.45-.29-.71-.29s-.51.1-.7.29l-1.83 1.83 3.75 3.75 1.83-1.83c.39-.39.39-1.02 0-1.41z",
  delete: "M16 9v10H8V9h8m-1.5-6h-5l-1 1H5v2h14V4h-3.5l-1-1zM18 7H6v12c0 1.1.9 2 2 2h8c1.1 0 2-.9 2-2V7z",
};
const SVG = "http://www.w3.org/2000/svg";
const PICTURE = /^data:image\/(png|jpeg|webp|gif);base64,[A-Za-z0-9+/=]+$/;
// The RFM label's colour tones (crm/card_view.py RFM_TONES; card_grid.css).
const TONES = new Set(["keep", "grow", "watch", "win-back", "rest", "none"]);

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function icon(name) {
  const svg = document.createElementNS(SVG, "svg");
  svg.setAttribute("viewBox", "0 0 24 24");
  svg.setAttribute("aria-hidden", "true");
  svg.setAttribute("class", "icon");
  const path = document.createElementNS(SVG, "path");
  path.setAttribute("d", ICONS[name]);
  svg.appendChild(path);
  return svg;
}

function avatar(card) {
  const box = el("div", "avatar");
  if (card.picture && PICTURE.test(card.picture)) {
    const img = el("img");
    img.src = card.picture;
    img.alt = "";
    box.appendChild(img);
  } else {
    box.style.background = card.colour;
    box.textContent = card.initials;
    box.setAttribute("aria-hidden", "true");
  }
  return box;
}

function line(name, text, label) {
  const row = el("div", "line");
  row.appendChild(icon(name));
  const value = el("span", text ? "" : "muted", text || "—");
  if (text) row.title = text;
  row.setAttribute("aria-label", `${label}: ${text || "none"}`);
  row.appendChild(value);
  return row;
}

function stat(label, value, note, title) {
  const box = el("div", "stat");
  if (title) box.title = title;
  box.appendChild(el("span", "stat-label", label));
  box.appendChild(el("span", "stat-value", value));
  if (note) box.appendChild(el("span", "stat-note", note));
  return box;
}

function action(name, label, card) {
  const button = el("button", `action ${name}`);
  button.type = "button";
  button.dataset.action = name;
  button.dataset.id = String(card.id);
  button.setAttribute("aria-label", `${label} ${card.name}`);
  button.appendChild(icon(name));
  button.appendChild(el("span", "", label));
  return button;
}

function rfmLabel(card) {
  const tone = TONES.has(card.rfm_tone) ? card.rfm_tone : "none";
  const label = el("span", `rfm tone-${tone}`, card.rfm_group);
  if (card.rfm_title) label.title = card.rfm_title;
  label.setAttribute("aria-label", `RFM group: ${card.rfm_group}`);
  return label;
}

function cardElement(card, readOnly) {
  const article = el("article", "card");
  article.dataset.id = String(card.id);
  article.setAttribute("aria-label", card.name);
  const head = el("div", "head");
  head.appendChild(avatar(card));
  const link = el("a", "name", card.name);
  link.href = card.href;
  link.dataset.action = "open";
  link.dataset.id = String(card.id);
  const who = el("div", "who");
  who.appendChild(link);
  if (card.rfm_group) who.appendChild(rfmLabel(card));
  head.appendChild(who);
  article.appendChild(head);
  article.appendChild(line("mail", card.email, "Email"));
  article.appendChild(line("call", card.phone, "Phone"));
  article.appendChild(line("place", card.place, "Location"));
  const stats = el("div", "stats");
  stats.appendChild(stat("Spent", card.spent));
  stats.appendChild(stat("Visits", card.visits));
  stats.appendChild(stat("Last visit", card.last_visit, card.last_visit_note, card.last_visit_title));
  article.appendChild(stats);
  // A read-only demo (CRM_READ_ONLY) has no Edit or Delete: the banner says why.
  if (!readOnly) {
    const actions = el("div", "actions");
    actions.appendChild(action("edit", "Edit", card));
    actions.appendChild(action("delete", "Delete", card));
    article.appendChild(actions);
  }
  return article;
}

// What a grid remembers between draws, per component instance.
const STATE = new WeakMap();
const DIALOG = '[role="dialog"]';

function rootOf(parentElement) {
  return parentElement.getRootNode();
}

function focusControl(root, action, id) {
  const target = root.querySelector(`[data-action="${action}"][data-id="${id}"]`);
  if (target) target.focus();
}

// The dialog a card's Edit or Delete opens is Streamlit's, in the main
// document; the card lives in this component's shadow root, so nothing gives
// the focus back when the dialog closes (by Cancel, Save, Escape or its
// close button) and a keyboard user starts again at the top of the page.
// Watch for the dialog to open and then to go, and give the focus back to the
// button that opened it, as a native modal dialog does.
function returnFocusAfterDialog(parentElement, state, action, id) {
  if (state.watcher) state.watcher.disconnect();
  let opened = false;
  const giveUp = Date.now() + 30000; // the dialog never opened (e.g. the customer was deleted)
  const watcher = new MutationObserver(() => {
    if (document.querySelector(DIALOG)) {
      opened = true;
      return;
    }
    if (!opened) {
      if (Date.now() > giveUp) watcher.disconnect();
      return;
    }
    watcher.disconnect();
    state.watcher = null;
    keepFocusOn(parentElement, action, id);
  });
  watcher.observe(document.body, { childList: true, subtree: true });
  state.watcher = watcher;
}

// The dialog's focus trap lets go of the focus after the dialog has left the
// page (seen: the button got it, then the page's body), and the rerun that
// closed it may draw the cards again. So for a moment, whenever the focus is
// lost to the page's body, put it back; a focus the user moved is left alone.
function keepFocusOn(parentElement, action, id) {
  const until = Date.now() + 1500;
  const step = () => {
    const active = document.activeElement;
    if (!active || active === document.body) focusControl(rootOf(parentElement), action, id);
    if (Date.now() < until) requestAnimationFrame(step);
  };
  step();
}

export default function (component) {
  const { data, parentElement, setTriggerValue } = component;
  const root = rootOf(parentElement);
  let state = STATE.get(parentElement);
  if (!state) {
    state = { page: undefined, watcher: null };
    STATE.set(parentElement, state);
  }
  let grid = parentElement.querySelector(".grid");
  if (!grid) {
    grid = el("div", "grid");
    parentElement.appendChild(grid);
  }
  // Clicks are handled once for the whole grid. A plain click on a name opens
  // the customer in this tab without reloading the app; a middle or
  // modified click keeps the browser's own behaviour (a new tab).
  grid.onclick = (event) => {
    const target = event.target.closest("[data-action]");
    if (!target) return;
    const kind = target.dataset.action;
    if (kind === "open" && (event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey)) {
      return;
    }
    event.preventDefault();
    if (kind !== "open") returnFocusAfterDialog(parentElement, state, kind, target.dataset.id);
    setTriggerValue(kind, Number(target.dataset.id));
  };
  // Drawing the cards again replaces their buttons: keep the focus where it was.
  const focused = root.activeElement;
  const keep = focused && focused.dataset && focused.dataset.action
    ? { action: focused.dataset.action, id: focused.dataset.id }
    : null;
  const cards = (data && data.cards) || [];
  const readOnly = Boolean(data && data.read_only);
  grid.replaceChildren(...cards.map((card) => cardElement(card, readOnly)));
  if (keep) focusControl(root, keep.action, keep.id);
  // Another page of the same list: its first cards, not the bottom of it, in view.
  const page = data && data.page;
  if (page !== undefined && state.page !== undefined && page !== state.page) {
    if (grid.getBoundingClientRect().top < 0) grid.scrollIntoView({ block: "start" });
  }
  state.page = page;
}
