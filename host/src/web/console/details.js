// The open conversation's handover history and the bot's decision trace, turn by turn.

import { STRINGS, lang, t } from "./strings.js";
import { byTestId, el } from "./dom.js";
import { S } from "./state.js";
import { duration, operatorName, shortTime, stateBadge } from "./lists.js";
import { agentSteps } from "./agent_trace.js";

export function renderDetails() {
  var view = S.view;
  if (!view) return;
  var history = byTestId("handovers");
  history.textContent = "";
  if (!view.handovers.length) history.appendChild(el("li", { className: "empty", text: t("no_handovers") }));
  view.handovers.forEach(function (event) {
    var extra = [];
    if (event.actor) extra.push(actorName(event.actor));
    if (event.first_reply_ms) extra.push(t("first_reply", { time: duration(event.first_reply_ms - event.at_ms) }));
    history.appendChild(
      el("li", { "data-testid": "handover", "data-trigger": event.trigger }, [
        el("time", { datetime: new Date(event.at_ms).toISOString(), text: shortTime(event.at_ms) }),
        el("span", { className: "handover-what", text: t("trigger_" + event.trigger) }),
        el("span", { className: "handover-states" }, [stateBadge(event.from_state), " → ", stateBadge(event.to_state)]),
        extra.length ? el("span", { className: "muted", text: extra.join(" · ") }) : null,
        event.reason ? el("span", { className: "muted", text: event.reason }) : null
      ])
    );
  });
  var decisions = byTestId("decisions");
  decisions.textContent = "";
  if (!view.decisions.length) decisions.appendChild(el("li", { className: "empty", text: t("no_decisions") }));
  view.decisions.forEach(function (entry, index) {
    decisions.appendChild(decisionItem(entry, index + 1));
  });
}

function actorName(actor) {
  if (actor.indexOf("user:") === 0) return operatorName(actor.slice(5));
  var key = "actor_" + actor;
  return STRINGS[lang][key] ? t(key) : actor;
}

/** One turn of the bot's trace: tier, confidence, score, latency, what matched. */
function decisionItem(entry, number) {
  var decision = entry.decision || {};
  var facts = decisionFacts(decision.candidates);
  var numbers = [decision.confident ? t("confident") : t("not_confident")];
  if (typeof decision.score === "number") numbers.push(t("score") + " " + decision.score.toFixed(3));
  numbers.push(t("latency") + " " + decision.latency_ms + " ms");
  if (decision.tokens) numbers.push(decision.tokens + " " + t("tokens"));
  var tierKey = "tier_" + decision.tier;
  return el(
    "li",
    {
      className: "decision" + (decision.confident ? "" : " decision-unsure"),
      "data-testid": "decision",
      "data-tier": decision.tier,
      "data-key": entry.key
    },
    [
      el("div", { className: "decision-head" }, [
        el("span", { className: "decision-turn", text: t("turn", { n: number }) }),
        el("span", { className: "tier tier-" + decision.tier, text: STRINGS[lang][tierKey] ? t(tierKey) : decision.tier }),
        el("time", { datetime: new Date(entry.created_at_ms).toISOString(), text: shortTime(entry.created_at_ms) })
      ]),
      el("div", { className: "muted", text: numbers.join(" · ") }),
      facts.tried.length ? el("div", { className: "decision-line", text: t("tried") + ": " + facts.tried.join(" → ") }) : null,
      facts.matched.length ? el("div", { className: "decision-line", "data-testid": "decision-matched", text: t("matched") + ": " + facts.matched.join(", ") }) : null,
      facts.notes.length ? el("div", { className: "decision-line", text: facts.notes.join(" · ") }) : null,
      agentSteps(decision.candidates),
      el("details", {}, [el("summary", { text: t("raw") }), el("pre", { text: JSON.stringify(decision.candidates, null, 2) })])
    ]
  );
}

/**
 * What a decision's candidates say, whatever their shape: the tiers tried (a trace of
 * `{tier, confident}`), the FAQ entries and documents that matched with their scores,
 * and the reasons, triggers and phrases the turn gave.
 */
function decisionFacts(candidates) {
  var tried = [];
  var faqs = new Map();
  var notes = [];
  var noteFields = ["reason", "trigger", "phrase", "error", "replied_by", "asked_by", "dropped_by"];
  function addFaq(id, score, document) {
    var name = document ? document : id;
    var best = faqs.get(name);
    if (best === undefined || (typeof score === "number" && score > best)) faqs.set(name, typeof score === "number" ? score : null);
  }
  function walk(value, depth) {
    if (depth > 6 || value === null || typeof value !== "object") return;
    if (Array.isArray(value)) {
      value.forEach(function (item) {
        walk(item, depth + 1);
      });
      return;
    }
    if (typeof value.tier === "string" && "confident" in value) tried.push(value.tier + (value.confident ? " ✓" : " ✗"));
    if (typeof value.faq === "string") addFaq(value.faq, value.score);
    if (typeof value.id === "string" && typeof value.score === "number" && depth > 0) addFaq(value.id, value.score, value.document);
    noteFields.forEach(function (field) {
      if (typeof value[field] === "string" && value[field]) notes.push(field + ": " + value[field]);
    });
    Object.keys(value).forEach(function (key) {
      if (key !== "tier" && typeof value[key] === "object") walk(value[key], depth + 1);
    });
  }
  walk(candidates, 0);
  var matched = Array.from(faqs.entries())
    .sort(function (a, b) {
      return (b[1] || 0) - (a[1] || 0);
    })
    .slice(0, 3)
    .map(function (pair) {
      return pair[1] === null ? pair[0] : pair[0] + " (" + pair[1].toFixed(2) + ")";
    });
  return { tried: tried, matched: matched, notes: notes };
}
