//! Counting what a document selects once its fragments are expanded, without expanding them.
//!
//! [`expansion`] is the one count, used twice:
//! - before async-graphql sees a request (`http::intake::check`, over HTTP, graphql-sse and
//!   graphql-ws), to refuse a document that selects more than `server.max_complexity` fields.
//!   async-graphql
//!   walks the expanded document (its recursion-depth check, validation, complexity) before it
//!   compares anything with the limit, and never remembers a fragment: 22 fragments each
//!   spreading the next twice (906 bytes) kept a core busy for 18 s, twice as long with each
//!   fragment more. A request timeout cannot cut that short: it is CPU work, not a wait.
//! - in the schema extension below, `__typename` counted toward `server.max_complexity`:
//!   async-graphql's complexity skips it, so a document of 150,000 of them (1.6 MB) passed a
//!   limit of 500 and ran. Here each one counts one, like any other field, fragments spread as
//!   often as they are spread.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use async_graphql::extensions::{
    Extension, ExtensionContext, ExtensionFactory, NextParseQuery, NextValidation,
};
use async_graphql::parser::types::{ExecutableDocument, Selection, SelectionSet};
use async_graphql::{ErrorExtensionValues, ServerError, ServerResult, ValidationResult, Variables};
use vendors::ErrorCode;

/// What a document's operations select once every fragment spread is replaced by its fragment
/// (every operation, whichever the request names: async-graphql checks and counts them all).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Expansion {
    /// Field selections, `__typename` and aliased fields included, each fragment counted as
    /// often as it is spread and an inline fragment as its selections; arguments and
    /// directives add nothing. A spread that expands to nothing known (an unknown fragment,
    /// or one spread inside itself) counts one: validation refuses both, and so a document
    /// whose spreads lead nowhere still counts what async-graphql would walk.
    pub fields: usize,
    /// The `__typename`s among the fields (async-graphql's own complexity skips them).
    pub typenames: usize,
}

impl Expansion {
    const FIELD: Expansion = Expansion {
        fields: 1,
        typenames: 0,
    };
    const TYPENAME: Expansion = Expansion {
        fields: 1,
        typenames: 1,
    };

    fn add(self, other: Expansion) -> Expansion {
        Expansion {
            fields: self.fields.saturating_add(other.fields),
            typenames: self.typenames.saturating_add(other.typenames),
        }
    }
}

/// The [`Expansion`] of `document`, counted without expanding anything: each fragment is read
/// once and its count reused wherever it is spread, so the work is linear in the document's
/// size whatever the count (2^40 from a kilobyte of fragments each spreading the next twice;
/// the counts saturate at `usize::MAX`).
pub fn expansion(document: &ExecutableDocument) -> Expansion {
    Walk::new(document).operations()
}

/// What a selection set holds itself, and the fragments it spreads (once per spread, in
/// order), left unexpanded.
struct Body<'a> {
    own: Expansion,
    spreads: std::vec::IntoIter<&'a str>,
}

impl<'a> Body<'a> {
    fn of(set: &'a SelectionSet) -> Body<'a> {
        fn read<'a>(set: &'a SelectionSet, own: &mut Expansion, spreads: &mut Vec<&'a str>) {
            for item in &set.items {
                match &item.node {
                    Selection::Field(field) => {
                        *own = own.add(if field.node.name.node == "__typename" {
                            Expansion::TYPENAME
                        } else {
                            Expansion::FIELD
                        });
                        // Nesting is bounded by the parser (64 levels); chains of fragments,
                        // which are not, are walked without recursion below.
                        read(&field.node.selection_set.node, own, spreads);
                    }
                    Selection::InlineFragment(inline) => {
                        read(&inline.node.selection_set.node, own, spreads)
                    }
                    Selection::FragmentSpread(spread) => {
                        spreads.push(spread.node.fragment_name.node.as_str())
                    }
                }
            }
        }
        let mut own = Expansion::default();
        let mut spreads = Vec::new();
        read(set, &mut own, &mut spreads);
        Body {
            own,
            spreads: spreads.into_iter(),
        }
    }
}

struct Walk<'a> {
    document: &'a ExecutableDocument,
    /// Each fragment's expansion once known; `None` while it is being expanded (a spread of
    /// it then is a cycle).
    fragments: HashMap<&'a str, Option<Expansion>>,
    /// Selection sets read (each operation and each fragment spread at least once: once).
    bodies_read: usize,
}

impl<'a> Walk<'a> {
    fn new(document: &'a ExecutableDocument) -> Self {
        Walk {
            document,
            fragments: HashMap::new(),
            bodies_read: 0,
        }
    }

    fn operations(&mut self) -> Expansion {
        let document = self.document;
        document
            .operations
            .iter()
            .map(|(_, op)| self.selection_set(&op.node.selection_set.node))
            .fold(Expansion::default(), Expansion::add)
    }

    fn body(&mut self, set: &'a SelectionSet) -> Body<'a> {
        self.bodies_read += 1;
        Body::of(set)
    }

    /// The expansion of `set`, with an explicit stack of the fragments being expanded: a chain
    /// of 100,000 fragments each spreading the next does not deepen the call stack.
    fn selection_set(&mut self, set: &'a SelectionSet) -> Expansion {
        struct Frame<'a> {
            fragment: Option<&'a str>,
            body: Body<'a>,
        }
        let mut stack = vec![Frame {
            fragment: None,
            body: self.body(set),
        }];
        loop {
            let top = stack
                .last_mut()
                .expect("the selection set's frame is popped last");
            if let Some(name) = top.body.spreads.next() {
                let add = match self.fragments.get(name) {
                    Some(Some(known)) => *known,
                    // A cycle: validation refuses it.
                    Some(None) => Expansion::FIELD,
                    None => match self.document.fragments.get(name) {
                        // An unknown fragment: validation refuses it.
                        None => Expansion::FIELD,
                        Some(fragment) => {
                            self.fragments.insert(name, None);
                            let body = self.body(&fragment.node.selection_set.node);
                            stack.push(Frame {
                                fragment: Some(name),
                                body,
                            });
                            continue;
                        }
                    },
                };
                top.body.own = top.body.own.add(add);
                continue;
            }
            let done = stack.pop().expect("a frame is on the stack");
            if let Some(name) = done.fragment {
                self.fragments.insert(name, Some(done.body.own));
            }
            match stack.last_mut() {
                Some(parent) => parent.body.own = parent.body.own.add(done.body.own),
                None => return done.body.own,
            }
        }
    }
}

/// async-graphql's words for an over-complex query, with the gateway's code.
fn too_complex() -> ServerError {
    let mut error = ServerError::new("Query is too complex.", None);
    mark_too_complex(&mut error);
    error
}

fn mark_too_complex(error: &mut ServerError) {
    let extensions = error
        .extensions
        .get_or_insert_with(ErrorExtensionValues::default);
    extensions.set("code", ErrorCode::QueryTooComplex.as_str());
    extensions.set("retryable", false);
}

/// The schema extension: one [`TypenameCounter`] per request.
pub struct TypenameComplexity {
    max_complexity: usize,
}

impl TypenameComplexity {
    pub fn new(max_complexity: usize) -> Self {
        TypenameComplexity { max_complexity }
    }
}

impl ExtensionFactory for TypenameComplexity {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(TypenameCounter {
            max_complexity: self.max_complexity,
            typenames: AtomicUsize::new(0),
        })
    }
}

/// Counts the `__typename`s of the document a request runs, and adds them to the complexity
/// async-graphql computed (over every operation of the document, as async-graphql's is).
struct TypenameCounter {
    max_complexity: usize,
    typenames: AtomicUsize,
}

#[async_trait::async_trait]
impl Extension for TypenameCounter {
    async fn parse_query(
        &self,
        ctx: &ExtensionContext<'_>,
        query: &str,
        variables: &Variables,
        next: NextParseQuery<'_>,
    ) -> ServerResult<ExecutableDocument> {
        // `next` has already walked the expanded document (async-graphql's recursion-depth
        // check): too late to refuse a document for its expansion, which is why the intake
        // counts first.
        let document = next.run(ctx, query, variables).await?;
        self.typenames
            .store(expansion(&document).typenames, Ordering::Relaxed);
        Ok(document)
    }

    async fn validation(
        &self,
        ctx: &ExtensionContext<'_>,
        next: NextValidation<'_>,
    ) -> Result<ValidationResult, Vec<ServerError>> {
        let mut result = next.run(ctx).await.map_err(|mut errors| {
            // async-graphql's own refusal gets the code the intake's carries.
            for error in &mut errors {
                if error.message == "Query is too complex." {
                    mark_too_complex(error);
                }
            }
            errors
        })?;
        result.complexity = result
            .complexity
            .saturating_add(self.typenames.load(Ordering::Relaxed));
        if result.complexity > self.max_complexity {
            return Err(vec![too_complex()]);
        }
        Ok(result)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(query: &str) -> ExecutableDocument {
        async_graphql::parser::parse_query(query).unwrap()
    }

    fn count(query: &str) -> Expansion {
        expansion(&parse(query))
    }

    /// `n` fragments, each spreading the next twice, the last selecting `__typename`: 2^n
    /// `__typename`s once expanded, from about 40 bytes a fragment.
    fn doubling(n: usize) -> String {
        let mut query = String::from("{ ...F0 } ");
        for i in 0..n {
            query.push_str(&format!(
                "fragment F{i} on Query {{ ...F{j} ...F{j} }} ",
                j = i + 1
            ));
        }
        query.push_str(&format!("fragment F{n} on Query {{ __typename }}"));
        query
    }

    fn fields(n: usize) -> Expansion {
        Expansion {
            fields: n,
            typenames: 0,
        }
    }

    #[test]
    fn fields_are_counted_through_fields_and_fragments() {
        assert_eq!(
            count("{ __typename a { __typename b } }"),
            Expansion {
                fields: 4,
                typenames: 2
            }
        );
        assert_eq!(
            count("{ ...F ...F a { ... on A { __typename } } } fragment F on Q { __typename x: __typename }"),
            Expansion {
                fields: 6,
                typenames: 5
            }
        );
        // Arguments and directives add nothing; aliases are fields like any other.
        assert_eq!(
            count("{ a(x: 1, y: { z: [1, 2] }) @include(if: true) { b } c: a { b } }"),
            fields(4)
        );
        // Every operation counts, whichever one a request names: async-graphql checks them all.
        assert_eq!(
            count("query A { __typename } query B { __typename b }"),
            Expansion {
                fields: 3,
                typenames: 2
            }
        );
        // Unused fragments are not selected.
        assert_eq!(count("{ a } fragment F on Q { b c d }"), fields(1));
    }

    #[test]
    fn spreads_leading_nowhere_count_one() {
        // A cycle: the spread inside the fragment being expanded counts one, nothing more.
        assert_eq!(
            count("{ ...F } fragment F on Q { __typename ...F }"),
            Expansion {
                fields: 2,
                typenames: 1
            }
        );
        assert_eq!(
            count("{ ...A } fragment A on Q { ...B ...B } fragment B on Q { a ...A ...A }"),
            fields(6)
        );
        // An unknown fragment counts one, so doubling spreads of it still add up.
        assert_eq!(count("{ ...Nowhere }"), fields(1));
        assert_eq!(
            count("{ ...A } fragment A on Q { ...B ...B } fragment B on Q { ...C ...C }"),
            fields(4)
        );
    }

    #[test]
    fn doubling_fragments_are_counted_not_expanded() {
        // 2^40 selections once expanded; each fragment is read once.
        let document = parse(&doubling(40));
        let mut walk = Walk::new(&document);
        assert_eq!(
            walk.operations(),
            Expansion {
                fields: 1 << 40,
                typenames: 1 << 40
            }
        );
        assert_eq!(
            walk.bodies_read,
            1 + 41,
            "the operation and each fragment, once"
        );

        // 2^80 saturates (and ends: an expansion would not).
        let document = parse(&doubling(80));
        let mut walk = Walk::new(&document);
        assert_eq!(
            walk.operations(),
            Expansion {
                fields: usize::MAX,
                typenames: usize::MAX
            }
        );
        assert_eq!(walk.bodies_read, 1 + 81);
    }

    #[test]
    fn a_long_chain_of_fragments_does_not_deepen_the_stack() {
        // Fragments are not nested in the text, so the parser does not bound the chain.
        let n = 20_000;
        let mut query = String::from("{ ...F0 } ");
        for i in 0..n {
            query.push_str(&format!("fragment F{i} on Q {{ a ...F{} }} ", i + 1));
        }
        query.push_str(&format!("fragment F{n} on Q {{ a }}"));
        let document = parse(&query);
        // A small stack: a recursive walk 20,000 fragments deep would overflow it.
        let counted = std::thread::Builder::new()
            .stack_size(256 * 1024)
            .spawn(move || expansion(&document))
            .unwrap()
            .join()
            .unwrap();
        assert_eq!(counted, fields(n + 1));
    }

    #[tokio::test]
    async fn over_complex_queries_carry_the_code_whichever_check_refuses_them() {
        struct Q;
        #[async_graphql::Object]
        impl Q {
            async fn a(&self) -> i32 {
                1
            }
        }
        let schema = async_graphql::Schema::build(
            Q,
            async_graphql::EmptyMutation,
            async_graphql::EmptySubscription,
        )
        .limit_complexity(2)
        .extension(TypenameComplexity::new(2))
        .finish();
        let code = |response: async_graphql::Response| {
            let json = serde_json::to_value(&response).unwrap();
            assert!(json["data"].is_null(), "{json}");
            (
                json["errors"][0]["extensions"]["code"].clone(),
                json["errors"][0]["extensions"]["retryable"].clone(),
            )
        };
        let refused = (
            serde_json::json!("QUERY_TOO_COMPLEX"),
            serde_json::json!(false),
        );
        // async-graphql's own count refuses three fields, ...
        assert_eq!(code(schema.execute("{ a b: a c: a }").await), refused);
        // ... the extension the `__typename`s it skips.
        assert_eq!(
            code(schema.execute("{ a __typename __typename }").await),
            refused
        );
        let ok = schema.execute("{ a __typename }").await;
        assert!(ok.errors.is_empty(), "{:?}", ok.errors);
    }
}
