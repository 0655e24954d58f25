// The desk's keyboard layer (hitl/ui/keys.py mounts it on Review and the Inbox).
//
// One capture-phase keydown listener per browser tab, installed by the first mount and fed the
// current page's data by every mount. It
//   - toggles the "?" overlay listing every shortcut (Esc closes it);
//   - on Review: X puts the cursor in the first card's empty reason field (with text in it, X
//     goes on to Streamlit's Reject button); A, X, S and Y pressed while the page is re-running or
//     a card is not drawn yet are refused with a visible note (the card about to appear is not
//     the one the reviewer saw); J, K and U pressed then are kept and applied once it is ready;
//   - on the Inbox: j/k move the cursor row, x ticks it, Enter/o open it in Review; keys
//     pressed while the page re-runs are kept and sent once it is ready.
// Nothing is ever dropped silently: a key is applied, or a note says it was not.
export default function (component) {
  const { data, setTriggerValue } = component;
  const state = window.__hitlKeys || (window.__hitlKeys = { installed: false, queue: [], mounts: 0, refused: 0 });
  state.data = data || {};
  state.send = setTriggerValue;
  state.mounts += 1;
  const mount = state.mounts;

  const busy = () => {
    const app = document.querySelector('[data-testid="stApp"]');
    return (app && app.getAttribute("data-test-script-state") === "running") ||
      !!document.querySelector('[data-testid="stSkeleton"]');
  };
  const inField = (el) => {
    if (!el) return false;
    const tag = (el.tagName || "").toLowerCase();
    return tag === "input" || tag === "textarea" || tag === "select" || el.isContentEditable;
  };
  const note = (text) => {
    let box = document.getElementById("hitl-key-note");
    if (!box) {
      box = document.createElement("div");
      box.id = "hitl-key-note";
      box.setAttribute("role", "status");
      box.setAttribute("aria-live", "polite");
      document.body.appendChild(box);
    }
    box.textContent = text;
    box.className = "hitl-key-note hitl-key-note-shown";
    clearTimeout(state.noteTimer);
    state.noteTimer = setTimeout(() => { box.className = "hitl-key-note"; }, 3000);
  };
  const overlay = (show) => {
    let box = document.getElementById("hitl-key-help");
    if (!show) { if (box) box.remove(); return; }
    if (box) box.remove();
    box = document.createElement("div");
    box.id = "hitl-key-help";
    box.setAttribute("role", "dialog");
    box.setAttribute("aria-label", "Keyboard shortcuts");
    const panel = document.createElement("div");
    panel.className = "hitl-key-help-panel";
    const title = document.createElement("h3");
    title.textContent = "Keyboard shortcuts";
    panel.appendChild(title);
    for (const [section, rows] of state.data.sections || []) {
      const head = document.createElement("h4");
      head.textContent = section;
      panel.appendChild(head);
      const table = document.createElement("table");
      for (const [keys, what] of rows) {
        const tr = document.createElement("tr");
        const k = document.createElement("td");
        const kbd = document.createElement("kbd");
        kbd.textContent = keys;
        k.appendChild(kbd);
        const d = document.createElement("td");
        d.textContent = what;
        tr.appendChild(k);
        tr.appendChild(d);
        table.appendChild(tr);
      }
      panel.appendChild(table);
    }
    const foot = document.createElement("p");
    foot.textContent = "Press ? or Esc to close.";
    panel.appendChild(foot);
    box.appendChild(panel);
    box.addEventListener("click", (event) => { if (event.target === box) overlay(false); });
    document.body.appendChild(box);
  };
  const reasonField = () => {
    const card = document.querySelector('[class*="st-key-review-card-"]');
    if (!card) return null;
    for (const el of card.querySelectorAll('[class*="st-key-review-"]')) {
      if ([...el.classList].some((c) => /^st-key-review-.+-reason$/.test(c))) {
        const field = el.querySelector("textarea, input");
        if (field) return field;
      }
    }
    return null;
  };
  const replay = (key) => {
    // Re-dispatched for Streamlit's own shortcut handler (J, K, U are st.button shortcuts).
    const event = new KeyboardEvent("keydown", { key, code: "Key" + key.toUpperCase(), bubbles: true, cancelable: true });
    event.__hitlReplay = true;
    document.body.dispatchEvent(event);
  };
  state.flush = () => {
    if (busy() || !state.queue.length) return;
    const next = state.queue.shift();
    if (next.page !== (state.data.page || "")) {
      state.refused += 1;
      note(`Key ${next.key.toUpperCase()} was not applied: you left the page before it was ready.`);
    } else if (next.page === "inbox") {
      state.send && state.send("key", `${next.key}:${Date.now()}`);
    } else {
      replay(next.key);
    }
    if (state.queue.length) setTimeout(state.flush, 120);
  };

  if (!state.installed) {
    state.installed = true;
    new MutationObserver(() => state.flush && state.flush()).observe(document.body, {
      attributes: true, subtree: true, attributeFilter: ["data-test-script-state"],
    });
    window.addEventListener("keydown", (event) => {
      if (event.__hitlReplay || event.ctrlKey || event.metaKey || event.altKey) return;
      const page = (state.data && state.data.page) || "";
      if (!page) return;
      const key = event.key;
      if (key === "Escape" && document.getElementById("hitl-key-help")) {
        overlay(false); event.preventDefault(); event.stopImmediatePropagation(); return;
      }
      if (inField(event.target) || inField(document.activeElement)) return;
      if (key === "?") {
        overlay(!document.getElementById("hitl-key-help"));
        event.preventDefault(); event.stopImmediatePropagation(); return;
      }
      const lower = key.length === 1 ? key.toLowerCase() : key;
      const stop = () => { event.preventDefault(); event.stopImmediatePropagation(); };
      if (page === "review") {
        if (["a", "x", "s", "y"].includes(lower) && !event.shiftKey) {
          if (busy()) {
            stop();
            state.refused += 1;
            note(`Key ${lower.toUpperCase()} was not applied: the page was still loading. Press it again now that it is ready.`);
            return;
          }
          if (lower === "x") {
            const field = reasonField();
            if (field && !field.value) { stop(); field.focus(); note("Type the reason, then Esc and X to reject with it."); }
          }
          return;
        }
        if (["j", "k", "u"].includes(lower) && busy()) {
          stop();
          state.queue.push({ key: lower, page });
          note(`Key ${lower.toUpperCase()} will apply as soon as the page is ready.`);
          return;
        }
        return;
      }
      if (page === "inbox") {
        const wanted = { j: "j", k: "k", x: "x", o: "o", Enter: "o", ArrowDown: "j", ArrowUp: "k" }[lower];
        if (!wanted || event.shiftKey) return;
        if (lower === "ArrowDown" || lower === "ArrowUp") {
          // The grid's own arrows move its cell focus; elsewhere on the page they move the cursor row.
          const grid = document.activeElement && document.activeElement.closest &&
            document.activeElement.closest('[data-testid="stDataFrame"]');
          if (grid) return;
        }
        stop();
        if (busy()) {
          state.queue.push({ key: wanted, page });
          return;
        }
        state.send && state.send("key", `${wanted}:${Date.now()}`);
      }
    }, true);
  }
  setTimeout(() => state.flush && state.flush(), 50);
  return () => {
    if (state.mounts === mount) state.data = {};
  };
}
