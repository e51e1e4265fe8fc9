"""Runs the real ansible-rulebook on one conformance case and writes its expected.json.

Usage: python record.py CASE_DIR SOURCES_DIR. It runs ansible-rulebook in CASE_DIR on rulebook.yml
(with --vars vars.yml when the case has one) and notes every rule firing as ansible-rulebook's
engine reports it, in order: {"rule", "events"}, the events being the matched ones in the order of
their names (m, or m_0, m_1, ..., or the names given with <<), without the meta ansible-rulebook
adds. The firings are taken where the engine hands a match to the action queue, so actions need
not print anything and set_fact, retract_fact and post_event work as usual.
"""

import json
import os
import sys

from ansible_rulebook import cli, rule_generator

FIRINGS = []
_add_to_plan = rule_generator.add_to_plan


def _plain(event):
    if isinstance(event, dict):
        return {k: v for k, v in event.items() if k != "meta"}
    return event


def _order(name):
    # m_2 before m_10; names given with << after the numbered ones, alphabetically.
    tail = name.rsplit("_", 1)[-1]
    return (0, int(tail), name) if name.startswith("m") and tail.isdigit() else (1, 0, name)


def _noting(ruleset, ruleset_uuid, rule, rule_uuid, actions, variables, inventory, hosts, plan,
            results):
    data = getattr(results, "data", results) or {}
    events = [_plain(data[name]) for name in sorted(data, key=_order)]
    FIRINGS.append({"rule": rule, "events": events})
    return _add_to_plan(ruleset, ruleset_uuid, rule, rule_uuid, actions, variables, inventory,
                        hosts, plan, results)


def main():
    case, sources = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
    os.chdir(case)
    rule_generator.add_to_plan = _noting
    args = ["-r", "rulebook.yml", "-S", sources, "-i", os.devnull]
    if os.path.exists("vars.yml"):
        args += ["--vars", "vars.yml"]
    code = cli.main(args)
    with open("expected.json", "w", encoding="utf-8") as out:
        json.dump({"firings": FIRINGS}, out, indent=1, sort_keys=True)
        out.write("\n")
    return code


if __name__ == "__main__":
    sys.exit(main())
