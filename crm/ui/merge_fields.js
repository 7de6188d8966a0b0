// Merge-field chips for the message composer: a click inserts "[City]" where the
// cursor is in the message box (st.text_area tells Python nothing about its cursor).
//
// A chip sends the box's text as the browser has it (typing reaches Python only
// when the box loses focus) with the selection to replace. Python inserts the
// field and sends back the new text and where the cursor goes; this puts both in
// the box, through the box's own input event, because a box with unsent typing
// keeps its text when Python changes the value. A mouse press on a chip keeps the
// focus in the box; a chip reached with Tab uses the selection the box kept.

function box(data) {
  return document.querySelector(`.st-key-${data.target} textarea`);
}

const setValue = Object.getOwnPropertyDescriptor(HTMLTextAreaElement.prototype, "value").set;

function showInsertion(data, tries) {
  const area = box(data);
  if (!area) {
    if (tries > 0) requestAnimationFrame(() => showInsertion(data, tries - 1));
    return;
  }
  if (area.value !== data.text) {
    setValue.call(area, data.text);
    area.dispatchEvent(new Event("input", { bubbles: true }));
  }
  area.focus();
  area.setSelectionRange(data.caret, data.caret);
}

export default function (component) {
  const { data, parentElement, setTriggerValue } = component;
  let group = parentElement.querySelector(".chips");
  if (!group) {
    const label = document.createElement("span");
    label.className = "label";
    label.id = "merge-field-label";
    label.textContent = data.label;
    group = document.createElement("div");
    group.className = "chips";
    group.setAttribute("role", "group");
    group.setAttribute("aria-labelledby", label.id);
    parentElement.append(label, group);
    // Keep the focus (and with it the cursor) in the message box on a mouse press.
    group.addEventListener("mousedown", (event) => {
      if (event.target.closest("button")) event.preventDefault();
    });
    group.addEventListener("click", (event) => {
      const chip = event.target.closest("button");
      const area = box(data);
      if (!chip || !area) return;
      setTriggerValue("insert", {
        field: chip.dataset.field,
        text: area.value,
        start: area.selectionStart,
        end: area.selectionEnd,
      });
    });
  }
  if (group.childElementCount !== data.fields.length) {
    group.replaceChildren(
      ...data.fields.map((field) => {
        const chip = document.createElement("button");
        chip.type = "button";
        chip.className = "chip";
        chip.dataset.field = field;
        chip.textContent = field;
        chip.title = `Insert [${field}] at the cursor`;
        return chip;
      }),
    );
  }
  // Each insertion is shown once (a later redraw leaves the box alone).
  const done = Number(group.dataset.seq || 0);
  if (data.text !== null && data.seq > done) {
    group.dataset.seq = String(data.seq);
    showInsertion(data, 60);
  }
}
