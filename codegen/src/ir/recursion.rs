//! Boxing recursive types.
//!
//! A type that contains itself by value (directly or through other types, through `Option`)
//! has infinite size. After lowering, strongly connected components of the "contains by
//! value" graph are computed (Tarjan); every by-value edge inside a component is wrapped in
//! `Box`. `Vec` and `BTreeMap` already allocate, so edges through them are not boxed.
//!
//! Boxing makes the type finite, but not every recursive type terminates at run time: an
//! untagged union (or an alias) that reaches itself again *at the same JSON value* — no
//! struct field, array element or map value in between, as in
//! `{"anyOf": [{"$ref": "#"}, {"type": "string"}]}` — makes serde try the same branch on the
//! same input forever and overflow the stack. [`left_recursive`] finds such cycles (in the
//! graph of same-value edges: untagged variants and aliases) before anything is emitted, and
//! the generator rejects the schema.

use std::collections::{BTreeMap, HashMap};

use super::{Ty, TypeDef, TypeKind};

fn by_value(ty: &Ty, out: &mut Vec<String>) {
    match ty {
        Ty::Named(n) => out.push(n.clone()),
        Ty::Nullable(t) => by_value(t, out),
        Ty::Tuple(items) => items.iter().for_each(|t| by_value(t, out)),
        _ => {}
    }
}

fn edges(def: &TypeDef) -> Vec<String> {
    let mut out = Vec::new();
    match &def.kind {
        TypeKind::Struct { fields, .. } => fields.iter().for_each(|f| by_value(&f.ty, &mut out)),
        TypeKind::Tagged { variants, .. } | TypeKind::Untagged(variants) => variants
            .iter()
            .filter_map(|v| v.ty.as_ref())
            .for_each(|t| by_value(t, &mut out)),
        TypeKind::Alias(t) => by_value(t, &mut out),
        TypeKind::StringEnum(_) => {}
    }
    out
}

struct Tarjan<'a> {
    graph: &'a BTreeMap<String, Vec<String>>,
    index: HashMap<&'a str, usize>,
    low: HashMap<&'a str, usize>,
    on_stack: HashMap<&'a str, bool>,
    stack: Vec<&'a str>,
    next: usize,
    component: HashMap<String, usize>,
    components: usize,
}

impl<'a> Tarjan<'a> {
    fn visit(&mut self, v: &'a str) {
        self.index.insert(v, self.next);
        self.low.insert(v, self.next);
        self.next += 1;
        self.stack.push(v);
        self.on_stack.insert(v, true);
        for w in self.graph.get(v).into_iter().flatten() {
            let w = w.as_str();
            if !self.graph.contains_key(w) {
                continue;
            }
            if !self.index.contains_key(w) {
                self.visit(w);
                let lw = self.low[w];
                let lv = self.low.get_mut(v).expect("visited");
                *lv = (*lv).min(lw);
            } else if self.on_stack.get(w).copied().unwrap_or(false) {
                let iw = self.index[w];
                let lv = self.low.get_mut(v).expect("visited");
                *lv = (*lv).min(iw);
            }
        }
        if self.low[v] == self.index[v] {
            while let Some(w) = self.stack.pop() {
                self.on_stack.insert(w, false);
                self.component.insert(w.to_owned(), self.components);
                if w == v {
                    break;
                }
            }
            self.components += 1;
        }
    }
}

fn wrap(ty: &mut Ty, scc: usize, component: &HashMap<String, usize>) {
    match ty {
        Ty::Named(n) if component.get(n.as_str()) == Some(&scc) => {
            *ty = Ty::Boxed(Box::new(Ty::Named(n.clone())));
        }
        Ty::Nullable(t) => wrap(t, scc, component),
        Ty::Tuple(items) => items.iter_mut().for_each(|t| wrap(t, scc, component)),
        _ => {}
    }
}

/// Same-value edges: types that deserialize from exactly the value `def` is given.
fn same_value_edges(def: &TypeDef) -> Vec<String> {
    let mut out = Vec::new();
    match &def.kind {
        TypeKind::Untagged(variants) => variants
            .iter()
            .filter_map(|v| v.ty.as_ref())
            .for_each(|t| same_value(t, &mut out)),
        TypeKind::Alias(t) => same_value(t, &mut out),
        _ => {}
    }
    out
}

fn same_value(ty: &Ty, out: &mut Vec<String>) {
    match ty {
        Ty::Named(n) => out.push(n.clone()),
        Ty::Nullable(t) | Ty::Boxed(t) => same_value(t, out),
        _ => {}
    }
}

/// A type that reaches itself through same-value edges only (a union that can never stop
/// trying its own branches), with the cycle as type names: `None` when there is none. The
/// first such type in name order is reported, so the result is deterministic.
pub fn left_recursive(types: &BTreeMap<String, TypeDef>) -> Option<(&TypeDef, Vec<String>)> {
    let graph: BTreeMap<&str, Vec<String>> = types
        .iter()
        .map(|(n, d)| (n.as_str(), same_value_edges(d)))
        .filter(|(_, e)| !e.is_empty())
        .collect();
    // 0 = unvisited, 1 = on the current path, 2 = done (no cycle through it).
    let mut state: HashMap<&str, u8> = HashMap::new();
    for start in graph.keys() {
        let mut path: Vec<(&str, usize)> = vec![(start, 0)];
        while let Some((node, next)) = path.last().copied() {
            if next == 0 {
                if state.get(node).copied().unwrap_or(0) == 2 {
                    path.pop();
                    continue;
                }
                state.insert(node, 1);
            }
            let edges = graph.get(node).map(Vec::as_slice).unwrap_or(&[]);
            if let Some(to) = edges.get(next) {
                if let Some(top) = path.last_mut() {
                    top.1 += 1;
                }
                match state.get(to.as_str()).copied().unwrap_or(0) {
                    1 => {
                        let from = path.iter().position(|(n, _)| *n == to).unwrap_or(0);
                        let mut cycle: Vec<String> =
                            path[from..].iter().map(|(n, _)| (*n).to_owned()).collect();
                        cycle.push(to.clone());
                        return types.get(to.as_str()).map(|d| (d, cycle));
                    }
                    0 if graph.contains_key(to.as_str()) => {
                        if let Some((key, _)) = graph.get_key_value(to.as_str()) {
                            path.push((key, 0));
                        }
                    }
                    _ => {}
                }
            } else {
                state.insert(node, 2);
                path.pop();
            }
        }
    }
    None
}

/// Box every by-value reference that closes a cycle.
pub fn box_recursive(types: &mut BTreeMap<String, TypeDef>) {
    let graph: BTreeMap<String, Vec<String>> =
        types.iter().map(|(n, d)| (n.clone(), edges(d))).collect();
    let mut t = Tarjan {
        graph: &graph,
        index: HashMap::new(),
        low: HashMap::new(),
        on_stack: HashMap::new(),
        stack: Vec::new(),
        next: 0,
        component: HashMap::new(),
        components: 0,
    };
    for v in graph.keys() {
        if !t.index.contains_key(v.as_str()) {
            t.visit(v);
        }
    }
    let component = t.component;
    let mut sizes: HashMap<usize, usize> = HashMap::new();
    for c in component.values() {
        *sizes.entry(*c).or_default() += 1;
    }
    for (name, def) in types.iter_mut() {
        let scc = component[name.as_str()];
        let self_loop = graph[name].iter().any(|n| n == name);
        if sizes[&scc] < 2 && !self_loop {
            continue;
        }
        match &mut def.kind {
            TypeKind::Struct { fields, .. } => fields
                .iter_mut()
                .for_each(|f| wrap(&mut f.ty, scc, &component)),
            TypeKind::Tagged { variants, .. } | TypeKind::Untagged(variants) => variants
                .iter_mut()
                .filter_map(|v| v.ty.as_mut())
                .for_each(|t| wrap(t, scc, &component)),
            TypeKind::Alias(t) => wrap(t, scc, &component),
            TypeKind::StringEnum(_) => {}
        }
    }
}
