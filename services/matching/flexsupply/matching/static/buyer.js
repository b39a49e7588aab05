// The buyer's sale page, made livelier: a countdown to the opening that opens the order form in place, and the
// live stock counter. Everything works without it (a plain form post; the counter as rendered); no build step, no
// library. Words come from the page (data-* attributes), in the page's language.
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

  var live = document.querySelector("[data-stock-events]");
  var submit = document.querySelector("[data-order-button]");
  var countdown = document.querySelector("[data-seconds-left]");
  var soldOut = document.querySelector("[data-sold-out]");
  var left = null; // units left as the stream last told; null until it has

  // The form is open: the buyer who filled it in early sends it now, with nothing typed lost to a reload.
  function opened() {
    if (live) {
      live.setAttribute("data-state", "on_sale");
    }
    if (countdown) {
      countdown.querySelector("[data-countdown]").parentNode.textContent = countdown.getAttribute("data-open-text");
      countdown.className = "banner banner-open";
    }
    if (submit) {
      submit.disabled = left === 0;
    }
  }

  // Seconds left as the server counted them at render, counted down on the monotonic clock: a phone's own clock
  // may be minutes off. Before the opening the button waits; at zero it works. Without a form (nothing to fill in)
  // the page is loaded again once, a little later for each phone, so that a whole group does not reload at once.
  if (countdown) {
    var text = countdown.querySelector("[data-countdown]");
    var started = performance.now();
    var total = parseFloat(countdown.getAttribute("data-seconds-left"));
    if (submit && total > 0) {
      submit.disabled = true;
    }
    var tick = function () {
      var seconds = Math.max(0, Math.ceil(total - (performance.now() - started) / 1000));
      if (seconds > 0) {
        text.textContent = duration(seconds);
        window.setTimeout(tick, 250);
        return;
      }
      if (submit) {
        opened();
      } else if (total > 0) {
        window.setTimeout(pageAgain, 3000 + Math.random() * 3000);
      }
    };
    tick();
  }

  // The live counter: the service sends the stock whenever it changes.
  if (live && window.EventSource) {
    var source = new EventSource(live.getAttribute("data-stock-events"));
    source.addEventListener("stock", function (event) {
      var stock = JSON.parse(event.data);
      left = stock.left;
      if (stock.state !== live.getAttribute("data-state")) {
        if (stock.state === "on_sale" && submit) {
          opened();
        } else {
          source.close();
          pageAgain();
          return;
        }
      }
      stock.regions.forEach(function (region) {
        var shown = document.querySelector('[data-left="' + region.region + '"]');
        if (shown) {
          shown.textContent = region.left;
        }
      });
      document.querySelectorAll("[data-left-total]").forEach(function (shown) {
        shown.textContent = stock.left;
      });
      if (soldOut) {
        soldOut.hidden = stock.left > 0 || stock.regions.length === 0;
      }
      if (submit && live.getAttribute("data-state") === "on_sale") {
        submit.disabled = stock.left <= 0;
      }
    });
  }
})();
