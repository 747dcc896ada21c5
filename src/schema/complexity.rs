//! `__typename` counted toward `server.max_complexity`: async-graphql's complexity skips it, so
//! a document of 150,000 of them (1.6 MB) passed a limit of 500 and ran. Here each one counts
//! one, like any other field, fragments spread as often as they are spread.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use async_graphql::extensions::{
    Extension, ExtensionContext, ExtensionFactory, NextParseQuery, NextPrepareRequest,
    NextValidation,
};
use async_graphql::parser::types::{ExecutableDocument, Selection, SelectionSet};
use async_graphql::{Request, ServerError, ServerResult, ValidationResult, Variables};
use parking_lot::Mutex;

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
            operation_name: Mutex::new(None),
            typenames: AtomicUsize::new(0),
        })
    }
}

/// Counts the `__typename`s of the operation a request runs, and adds them to the complexity
/// async-graphql computed.
struct TypenameCounter {
    max_complexity: usize,
    operation_name: Mutex<Option<String>>,
    typenames: AtomicUsize,
}

#[async_trait::async_trait]
impl Extension for TypenameCounter {
    async fn prepare_request(
        &self,
        ctx: &ExtensionContext<'_>,
        request: Request,
        next: NextPrepareRequest<'_>,
    ) -> ServerResult<Request> {
        let request = next.run(ctx, request).await?;
        *self.operation_name.lock() = request.operation_name.clone();
        Ok(request)
    }

    async fn parse_query(
        &self,
        ctx: &ExtensionContext<'_>,
        query: &str,
        variables: &Variables,
        next: NextParseQuery<'_>,
    ) -> ServerResult<ExecutableDocument> {
        let document = next.run(ctx, query, variables).await?;
        let name = self.operation_name.lock().clone();
        let typenames = typenames(&document, name.as_deref());
        self.typenames.store(typenames, Ordering::Relaxed);
        Ok(document)
    }

    async fn validation(
        &self,
        ctx: &ExtensionContext<'_>,
        next: NextValidation<'_>,
    ) -> Result<ValidationResult, Vec<ServerError>> {
        let mut result = next.run(ctx).await?;
        result.complexity = result
            .complexity
            .saturating_add(self.typenames.load(Ordering::Relaxed));
        if result.complexity > self.max_complexity {
            // async-graphql's own words for an over-complex query.
            return Err(vec![ServerError::new("Query is too complex.", None)]);
        }
        Ok(result)
    }
}

/// The `__typename`s the operation `name` selects (every operation's when unnamed), each
/// fragment counted as often as it is spread.
fn typenames(document: &ExecutableDocument, name: Option<&str>) -> usize {
    let mut counter = Counter {
        document,
        fragments: HashMap::new(),
    };
    document
        .operations
        .iter()
        .filter(|(op_name, _)| name.is_none() || op_name.map(|n| n.as_str()) == name)
        .map(|(_, op)| counter.selection_set(&op.node.selection_set.node))
        .fold(0, usize::saturating_add)
}

struct Counter<'a> {
    document: &'a ExecutableDocument,
    /// Each fragment's count once known; `None` while it is being counted (a fragment that
    /// spreads itself counts nothing more: validation refuses the cycle).
    fragments: HashMap<&'a str, Option<usize>>,
}

impl<'a> Counter<'a> {
    fn selection_set(&mut self, set: &'a SelectionSet) -> usize {
        set.items
            .iter()
            .map(|item| match &item.node {
                Selection::Field(field) if field.node.name.node == "__typename" => 1,
                Selection::Field(field) => self.selection_set(&field.node.selection_set.node),
                Selection::InlineFragment(inline) => {
                    self.selection_set(&inline.node.selection_set.node)
                }
                Selection::FragmentSpread(spread) => {
                    self.fragment(spread.node.fragment_name.node.as_str())
                }
            })
            .fold(0, usize::saturating_add)
    }

    fn fragment(&mut self, name: &'a str) -> usize {
        if let Some(known) = self.fragments.get(name) {
            return known.unwrap_or(0);
        }
        let Some(fragment) = self.document.fragments.get(name) else {
            return 0;
        };
        self.fragments.insert(name, None);
        let count = self.selection_set(&fragment.node.selection_set.node);
        self.fragments.insert(name, Some(count));
        count
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn count(query: &str, name: Option<&str>) -> usize {
        typenames(&async_graphql::parser::parse_query(query).unwrap(), name)
    }

    #[test]
    fn typenames_are_counted_through_fields_and_fragments() {
        assert_eq!(count("{ __typename a { __typename b } }", None), 2);
        assert_eq!(
            count("{ ...F ...F a { ... on A { __typename } } } fragment F on Q { __typename __typename }", None),
            5
        );
        assert_eq!(
            count(
                "query A { __typename } query B { __typename __typename }",
                Some("B")
            ),
            2
        );
        // Doubling fragments: 2^40 without memoisation; counted, not expanded.
        let mut doubling = String::from("{ ...F0 } ");
        for i in 0..40 {
            doubling.push_str(&format!(
                "fragment F{i} on Q {{ ...F{} ...F{} }} ",
                i + 1,
                i + 1
            ));
        }
        doubling.push_str("fragment F40 on Q { __typename }");
        assert_eq!(count(&doubling, None), 1 << 40);
        assert_eq!(
            count("{ ...F } fragment F on Q { __typename ...F }", None),
            1
        );
    }
}
