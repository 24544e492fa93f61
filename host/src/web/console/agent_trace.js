// The agentic tier's steps inside one decision: each model call with its tokens and time,
// each tool call with its arguments and what it returned, and the turn's totals.

import { t } from "./strings.js";
import { el } from "./dom.js";

/** The agentic trace in a decision's candidates (the tiers it tried), if the LLM ran. */
function agentTrace(candidates) {
  if (!Array.isArray(candidates)) return null;
  var tier = candidates.find(function (entry) {
    return entry && entry.tier === "agentic" && entry.candidates && Array.isArray(entry.candidates.steps);
  });
  return tier ? tier.candidates : null;
}

/** One tool call: `name(arguments) → result` with ✓ or ✗. */
function callLine(call) {
  var args = typeof call.arguments === "string" ? call.arguments : JSON.stringify(call.arguments);
  var mark = call.ok ? "✓" : "✗ " + (call.error || "");
  var notes = [];
  if (call.repeated) notes.push(t("agent_repeated"));
  if (call.truncated) notes.push(t("agent_truncated"));
  if (call.latency_ms) notes.push(call.latency_ms + " ms");
  return el("li", { className: "agent-call" + (call.ok ? "" : " agent-call-failed"), "data-testid": "agent-call", "data-tool": call.tool }, [
    el("code", { text: call.tool + "(" + args + ")" }),
    el("span", { className: "agent-mark", text: " " + mark + (notes.length ? " · " + notes.join(" · ") : "") }),
    call.result ? el("div", { className: "agent-result", text: "→ " + call.result }) : null
  ]);
}

/** The steps of an agentic turn as a list, with a summary line; null when the LLM did not run. */
export function agentSteps(candidates) {
  var trace = agentTrace(candidates);
  if (!trace) return null;
  var summary = [
    t("agent_model") + " " + trace.model,
    t("agent_stop") + ": " + t("agent_stop_" + trace.stop),
    (trace.prompt_tokens || 0) + " + " + (trace.completion_tokens || 0) + " " + t("tokens"),
    "$" + Number(trace.cost_usd || 0).toFixed(5)
  ];
  if (trace.handover) summary.push(t("agent_handover") + ": " + trace.handover.reason);
  var steps = (trace.steps || []).map(function (step) {
    var head = [t("agent_step", { n: step.step }), (step.prompt_tokens || 0) + " + " + (step.completion_tokens || 0) + " " + t("tokens"), step.latency_ms + " ms"];
    if (step.attempts > 1) head.push(t("agent_attempts", { n: step.attempts }));
    if (step.prompt_chars) head.push(t("agent_prompt", { n: step.prompt_chars }));
    return el("li", { className: "agent-step", "data-testid": "agent-step" }, [
      el("div", { className: "agent-step-head", text: head.join(" · ") }),
      (step.tool_calls || []).length ? el("ul", { className: "agent-calls" }, step.tool_calls.map(callLine)) : null,
      step.text && !(step.tool_calls || []).length ? el("div", { className: "agent-text", text: "“" + step.text + "”" }) : null,
      step.rejected ? el("div", { className: "agent-error", text: t("agent_rejected") + ": " + step.rejected }) : null,
      step.error ? el("div", { className: "agent-error", text: step.error }) : null
    ]);
  });
  return el("div", { className: "agent-trace", "data-testid": "agent-trace" }, [
    el("div", { className: "decision-line", "data-testid": "agent-summary", text: summary.join(" · ") }),
    el("ol", { className: "agent-steps" }, steps)
  ]);
}
