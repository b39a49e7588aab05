// The buyer's sale page, made livelier: a countdown to the opening and the live stock counter. Everything works
// without it (a plain form post; the counter as rendered); no build step, no library.
(function () {
  "use strict";

  function pageAgain() {
    // A GET of the page itself: never repeats a form post.
    window.location.assign(window.location.pathname);
  }

  function duration(seconds) {
    var hours = Math.floor(seconds / 3600);
    var minutes = Math.floor((seconds % 3600) / 60);
    var rest = seconds % 60;
    var two = function (n) {
      return (n < 10 ? "0" : "") + n;
    };
    return (hours ? hours + ":" + two(minutes) : minutes) + ":" + two(rest);
  }

  // Local times for <time> elements (rendered in UTC).
  document.querySelectorAll("time[datetime]").forEach(function (element) {
    var when = new Date(element.getAttribute("datetime"));
    if (!isNaN(when.getTime())) {
      element.textContent = when.toLocaleString([], { dateStyle: "medium", timeStyle: "short" });
    }
  });

  // Seconds left as the server counted them at render, counted down on the monotonic clock: a phone's own clock
  // may be minutes off. At zero the live counter's stream tells when the sale is open; should it not, the page is
  // loaded again once, a little later for each phone so that a whole group does not reload at the same instant.
  var countdown = document.querySelector("[data-seconds-left]");
  if (countdown) {
    var text = countdown.querySelector("[data-countdown]");
    var started = performance.now();
    var total = parseFloat(countdown.getAttribute("data-seconds-left"));
    var tick = function () {
      var left = Math.max(0, Math.ceil(total - (performance.now() - started) / 1000));
      if (left > 0) {
        text.textContent = duration(left);
        window.setTimeout(tick, 250);
        return;
      }
      text.parentNode.textContent = "Opening now…";
      if (total > 0) {
        window.setTimeout(pageAgain, 3000 + Math.random() * 3000);
      }
    };
    tick();
  }

  // The live counter: the service sends the stock whenever it changes.
  var live = document.querySelector("[data-stock-events]");
  if (live && window.EventSource) {
    var source = new EventSource(live.getAttribute("data-stock-events"));
    var soldOut = document.querySelector("[data-sold-out]");
    var submit = document.querySelector("[data-order-button]");
    source.addEventListener("stock", function (event) {
      var stock = JSON.parse(event.data);
      if (stock.state !== live.getAttribute("data-state")) {
        source.close();
        pageAgain();
        return;
      }
      stock.regions.forEach(function (region) {
        var left = document.querySelector('[data-left="' + region.region + '"]');
        if (left) {
          left.textContent = region.left;
        }
        var option = document.querySelector('option[value="' + region.region + '"]');
        if (option) {
          option.textContent = option.getAttribute("data-name") + " (" + region.left + " left)";
        }
      });
      var total = document.querySelector("[data-left-total]");
      if (total) {
        total.textContent = stock.left;
      }
      if (soldOut) {
        soldOut.hidden = stock.left > 0 || stock.regions.length === 0;
      }
      if (submit) {
        submit.disabled = stock.left <= 0;
      }
    });
  }
})();
