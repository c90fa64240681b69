// Poll a run's progress JSON and update the bar until the run finishes.
(function () {
  "use strict";
  const card = document.getElementById("run-progress-card");
  if (!card || card.dataset.finished === "1") return;
  const url = card.dataset.progressUrl;
  async function tick() {
    let data;
    try {
      const resp = await fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" });
      if (!resp.ok) throw new Error(resp.status);
      data = await resp.json();
    } catch (err) {
      setTimeout(tick, 3000);
      return;
    }
    document.getElementById("run-progress-bar").style.width = data.progress_pct + "%";
    document.getElementById("run-progress-pct").textContent = Math.round(data.progress_pct);
    document.getElementById("run-stage").textContent = data.stage;
    const status = document.getElementById("run-status");
    status.textContent = data.status_label;
    status.className = "status status-" + data.status;
    (data.sizes || []).forEach(function (size) {
      const row = document.querySelector('#run-chunks tr[data-size="' + size.size_h100e + '"]');
      if (!row) return;
      row.querySelector(".size-status").textContent = size.status_label;
      row.querySelector(".size-blocks").textContent = size.blocks_done + " / " + size.blocks;
      row.querySelector(".size-attempts").textContent = size.attempts;
    });
    if (data.error) {
      const e = document.getElementById("run-error");
      e.textContent = data.error;
      e.hidden = false;
    }
    if (data.finished) {
      window.location.reload();
    } else {
      setTimeout(tick, 1000);
    }
  }
  setTimeout(tick, 1000);
})();
