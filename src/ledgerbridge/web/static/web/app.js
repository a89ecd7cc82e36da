// LedgerBridge: small progressive enhancements. Every page works without them.
(function () {
  "use strict";

  // Reads a figure the way the server does (invoicing/bounds.py parse_number): a
  // sign, a leading currency sign, commas only between groups of three digits.
  // Empty counts as 0 while typing; anything else unreadable is NaN.
  function parse(value) {
    var text = String(value == null ? "" : value).trim();
    if (text === "") return 0;
    var sign = "";
    if (text[0] === "+" || text[0] === "-") { sign = text[0]; text = text.slice(1).trim(); }
    if (text && "\u00a3\u20ac$".indexOf(text[0]) >= 0) {
      text = text.slice(1).trim();
      if (!sign && (text[0] === "+" || text[0] === "-")) { sign = text[0]; text = text.slice(1).trim(); }
    }
    if (/^[0-9]{1,3}(,[0-9]{3})+(\.[0-9]*)?$/.test(text)) text = text.replace(/,/g, "");
    if (!/^([0-9]+(\.[0-9]*)?|\.[0-9]+)$/.test(text)) return NaN;
    var n = parseFloat(text);
    return sign === "-" ? -n : n;
  }
  function round2(n) { return Math.round((n + Number.EPSILON) * 100) / 100; }
  function fmt(n) {
    return n.toLocaleString("en-GB", { minimumFractionDigits: 2, maximumFractionDigits: 2 });
  }

  // Document form: per-line net and an estimate of the totals (the server decides).
  function recalc() {
    var body = document.getElementById("lines");
    if (!body) return;
    var net = 0, tax = 0, unreadable = false;
    body.querySelectorAll("tr.line-row").forEach(function (row) {
      var qty = parse(row.querySelector("[name=line_quantity]").value);
      var price = parse(row.querySelector("[name=line_unit_price]").value);
      var disc = parse(row.querySelector("[name=line_discount_percent]").value);
      var rateOption = row.querySelector("[name=line_tax_rate]").selectedOptions[0];
      var rate = rateOption ? parse(rateOption.dataset.rate) : 0;
      var cell = row.querySelector(".line-net");
      // A figure that is not a number is said so, never read as 0.00.
      if (isNaN(qty) || isNaN(price) || isNaN(disc)) {
        unreadable = true;
        cell.textContent = "not a number";
        cell.classList.add("not-a-number");
        return;
      }
      cell.classList.remove("not-a-number");
      var lineNet = round2(qty * price * (100 - disc) / 100);
      var lineTax = round2(lineNet * rate / 100);
      net += lineNet; tax += lineTax;
      cell.textContent = fmt(lineNet);
    });
    document.getElementById("lines-net").textContent = unreadable ? "—" : fmt(net);
    document.getElementById("lines-tax").textContent = unreadable ? "—" : fmt(tax);
    document.getElementById("lines-gross").textContent = unreadable ? "—" : fmt(net + tax);
  }

  // Nominal codes of the other side (expense on a sales line, revenue on a purchase
  // line) stay hidden unless asked for, in the rows and in the new-line template;
  // a code already chosen always shows.
  function showAllCodes(all) {
    var template = document.getElementById("line-template");
    var roots = [document];
    if (template) roots.push(template.content);
    roots.forEach(function (root) {
      root.querySelectorAll("option[data-other-side]").forEach(function (option) {
        option.hidden = !all && !option.selected;
      });
    });
  }

  function defaultCoding() {
    var el = document.getElementById("default-coding");
    return el ? JSON.parse(el.textContent) : {};
  }

  document.addEventListener("click", function (event) {
    var add = event.target.closest("[data-add-line]");
    if (add) {
      var template = document.getElementById("line-template");
      document.getElementById("lines").appendChild(template.content.cloneNode(true));
      var rows = document.querySelectorAll("#lines tr.line-row");
      rows[rows.length - 1].querySelector("[name=line_description]").focus();
      recalc();
      return;
    }
    var remove = event.target.closest("[data-remove-line]");
    if (remove) {
      var row = remove.closest("tr");
      var next = row.nextElementSibling;
      if (next && next.classList.contains("line-error-row")) next.remove();
      if (document.querySelectorAll("#lines tr.line-row").length > 1) {
        row.remove();
      } else {
        row.querySelectorAll("input[type=text]").forEach(function (i) { i.value = ""; });
      }
      recalc();
      return;
    }
    var addRow = event.target.closest("[data-add-row]");
    if (addRow) {
      var tpl = document.getElementById(addRow.dataset.addRow);
      document.getElementById(addRow.dataset.target).appendChild(tpl.content.cloneNode(true));
      return;
    }
    var removeRow = event.target.closest("[data-remove-row]");
    if (removeRow) {
      removeRow.closest("tr").remove();
    }
  });

  document.addEventListener("input", function (event) {
    if (event.target.closest("#lines")) recalc();
  });

  document.addEventListener("change", function (event) {
    var target = event.target;
    if (target.matches("[data-autosubmit]")) {
      target.form.submit();
      return;
    }
    if (target.name === "line_nominal_code") {
      target.dataset.touched = "1";
    }
    if (target.matches("[data-show-all-codes]")) {
      showAllCodes(target.checked);
      return;
    }
    if (target.name === "line_charge_type") {
      // Suggest the usual nominal code for the charge type unless the user chose one.
      var nominal = target.closest("tr").querySelector("[name=line_nominal_code]");
      var suggestion = defaultCoding()[target.value];
      if (nominal && suggestion && !nominal.dataset.touched) nominal.value = suggestion;
    }
    if (target.closest("#lines")) recalc();
  });

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (form.dataset.confirm && !window.confirm(form.dataset.confirm)) {
      event.preventDefault();
    }
  });

  // Partner pickers' search boxes (htmx fills the list beside them): typing is not
  // a filter change of the form around them, and Enter does not submit that form.
  document.addEventListener("change", function (event) {
    if (event.target.classList && event.target.classList.contains("partner-search")) {
      event.stopPropagation();
    }
  }, true);
  document.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && event.target.classList &&
        event.target.classList.contains("partner-search")) {
      event.preventDefault();
    }
  });

  document.addEventListener("DOMContentLoaded", recalc);
})();
