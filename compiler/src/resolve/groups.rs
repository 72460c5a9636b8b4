//! The group graph: `includes` edges, the built-in `all`, cycles, and who reaches whom.
//!
//! `group "X" { includes "Y" }` means every device of Y is also in X, so a policy that applies
//! to X reaches Y too. Every device is in `all`.

use std::collections::{BTreeMap, BTreeSet};

use crate::diag::{Diagnostic, Diagnostics};
use crate::model::path::Field;
use crate::resolve::diags::ResolveKind;
use crate::validate::{Location, Model};

/// The built-in group every device belongs to.
pub const ALL: &str = "all";

/// Groups and their `includes` edges.
#[derive(Debug, Default)]
pub struct GroupGraph {
    /// Group → the groups it includes (its direct subsets).
    includes: BTreeMap<String, Vec<String>>,
    /// Group → where it is defined.
    defined: BTreeMap<String, Location>,
    /// Group → the groups that include it (its direct supersets), built once so that
    /// `containers` costs only the size of the answer.
    included_by: BTreeMap<String, Vec<String>>,
}

impl GroupGraph {
    /// Builds the graph; an `includes` cycle is reported with every group on it and the
    /// edge that closes it is dropped, so later stages still terminate.
    pub fn build(model: &Model, diagnostics: &mut Diagnostics) -> Self {
        let mut graph = GroupGraph::default();
        for group in &model.groups {
            let name = group.value.name.to_string();
            graph
                .defined
                .entry(name.clone())
                .or_insert_with(|| group.at.clone());
            let list = graph.includes.entry(name).or_default();
            for included in &group.value.includes {
                if !list.contains(&included.to_string()) {
                    list.push(included.to_string());
                }
            }
        }
        graph.break_cycles(model, diagnostics);
        for (parent, children) in &graph.includes {
            for child in children {
                graph
                    .included_by
                    .entry(child.clone())
                    .or_default()
                    .push(parent.clone());
            }
        }
        graph
    }

    fn break_cycles(&mut self, model: &Model, diagnostics: &mut Diagnostics) {
        let names: Vec<String> = self.includes.keys().cloned().collect();
        let mut done = BTreeSet::new();
        for start in names {
            let mut stack = Vec::new();
            self.visit(&start, &mut stack, &mut done, model, diagnostics);
        }
    }

    fn visit(
        &mut self,
        group: &str,
        stack: &mut Vec<String>,
        done: &mut BTreeSet<String>,
        model: &Model,
        diagnostics: &mut Diagnostics,
    ) {
        if done.contains(group) {
            return;
        }
        stack.push(group.to_string());
        let children = self.includes.get(group).cloned().unwrap_or_default();
        for (index, child) in children.iter().enumerate() {
            if let Some(position) = stack.iter().position(|g| g == child) {
                let mut cycle: Vec<String> = stack[position..].to_vec();
                cycle.push(child.clone());
                let at = self
                    .defined
                    .get(group)
                    .map(|loc| model.value_span(loc, Field::Includes(index)));
                if let Some(at) = at {
                    let mut diagnostic = Diagnostic::error(
                        ResolveKind::GroupCycle {
                            cycle: cycle.join(" → "),
                        },
                        at,
                        "this `includes` closes the cycle",
                    );
                    for member in &cycle[..cycle.len() - 1] {
                        if member != group
                            && let Some(loc) = self.defined.get(member)
                        {
                            diagnostic = diagnostic.with_related(
                                model.value_span(loc, Field::Name),
                                format!("`{member}` is on the cycle"),
                            );
                        }
                    }
                    diagnostics.push(diagnostic);
                }
                if let Some(list) = self.includes.get_mut(group) {
                    list.retain(|g| g != child);
                }
                continue;
            }
            self.visit(child, stack, done, model, diagnostics);
        }
        stack.pop();
        done.insert(group.to_string());
    }

    /// Every defined group, plus `all`.
    pub fn groups(&self) -> impl Iterator<Item = &str> {
        std::iter::once(ALL).chain(self.includes.keys().map(String::as_str))
    }

    /// The groups that contain `group` (itself included), each with the chain of groups that
    /// joins it to `group`, e.g. `all-macs` → [`all-macs`, `engineering`]. `all` contains every
    /// group.
    pub fn containers(&self, group: &str) -> BTreeMap<String, Vec<String>> {
        let mut found: BTreeMap<String, Vec<String>> = BTreeMap::new();
        found.insert(group.to_string(), vec![group.to_string()]);
        let mut frontier = vec![group.to_string()];
        while let Some(current) = frontier.pop() {
            let path = found.get(&current).cloned().unwrap_or_default();
            for parent in self
                .included_by
                .get(&current)
                .map(Vec::as_slice)
                .unwrap_or_default()
            {
                if !found.contains_key(parent) {
                    let mut chain = vec![parent.clone()];
                    chain.extend(path.iter().cloned());
                    found.insert(parent.clone(), chain);
                    frontier.push(parent.clone());
                }
            }
        }
        if group != ALL {
            found
                .entry(ALL.to_string())
                .or_insert_with(|| vec![ALL.to_string(), group.to_string()]);
        }
        found
    }

    /// Where a group is defined, if it is not `all`.
    pub fn location(&self, group: &str) -> Option<&Location> {
        self.defined.get(group)
    }
}

/// Renders a containment chain: "`all-macs` includes `engineering`".
pub fn describe_chain(chain: &[String]) -> String {
    match chain {
        [] => String::new(),
        [only] => format!("`{only}`"),
        [first, .., last] if first == ALL => format!("`{last}` is part of `all`"),
        _ => chain
            .iter()
            .map(|g| format!("`{g}`"))
            .collect::<Vec<_>>()
            .join(" includes "),
    }
}
