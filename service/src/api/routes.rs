//! The route table: the one place that says which method and path reach which handler. API
//! Gateway routes, the `$default` fallback and the local gateway all read it.

use std::collections::HashMap;

use super::error::ApiError;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Route {
    OpenApi,
    ListProviders,
    ListIntegrations,
    CreateIntegration,
    GetIntegration,
    UpdateIntegration,
    DeleteIntegration,
    TestIntegration,
    RotateSecret,
    ListDeliveryLogs,
    GetDeliveryLog,
    RedeliverDeliveryLog,
    RecoverDeliveries,
}

impl Route {
    pub const ALL: [Route; 13] = [
        Route::OpenApi,
        Route::ListProviders,
        Route::ListIntegrations,
        Route::CreateIntegration,
        Route::GetIntegration,
        Route::UpdateIntegration,
        Route::DeleteIntegration,
        Route::TestIntegration,
        Route::RotateSecret,
        Route::ListDeliveryLogs,
        Route::GetDeliveryLog,
        Route::RedeliverDeliveryLog,
        Route::RecoverDeliveries,
    ];

    pub fn method(self) -> &'static str {
        match self {
            Route::CreateIntegration
            | Route::TestIntegration
            | Route::RotateSecret
            | Route::RedeliverDeliveryLog
            | Route::RecoverDeliveries => "POST",
            Route::UpdateIntegration => "PATCH",
            Route::DeleteIntegration => "DELETE",
            _ => "GET",
        }
    }

    /// The path in API Gateway's route-key syntax.
    pub fn path(self) -> &'static str {
        match self {
            Route::OpenApi => "/v1/openapi.json",
            Route::ListProviders => "/v1/integrations/providers",
            Route::ListIntegrations | Route::CreateIntegration => "/v1/integrations",
            Route::GetIntegration | Route::UpdateIntegration | Route::DeleteIntegration => "/v1/integrations/{id}",
            Route::TestIntegration => "/v1/integrations/{id}/test",
            Route::RotateSecret => "/v1/integrations/{id}/rotate-secret",
            Route::ListDeliveryLogs => "/v1/integrations/{id}/logs",
            Route::GetDeliveryLog => "/v1/integrations/{id}/logs/{logId}",
            Route::RedeliverDeliveryLog => "/v1/integrations/{id}/logs/{logId}/redeliver",
            Route::RecoverDeliveries => "/v1/integrations/{id}/recover",
        }
    }

    /// The Lambda function serving this route. Every route function runs the one `api` binary
    /// (see [`super::serve`]); they are separate functions so each gets only its own IAM grants.
    pub fn function_name(self) -> &'static str {
        match self {
            Route::OpenApi => "api-openapi",
            Route::ListProviders => "api-list-providers",
            Route::ListIntegrations => "api-list-integrations",
            Route::CreateIntegration => "api-create-integration",
            Route::GetIntegration => "api-get-integration",
            Route::UpdateIntegration => "api-update-integration",
            Route::DeleteIntegration => "api-delete-integration",
            Route::TestIntegration => "api-test-integration",
            Route::RotateSecret => "api-rotate-secret",
            Route::ListDeliveryLogs => "api-list-delivery-logs",
            Route::GetDeliveryLog => "api-get-delivery-log",
            Route::RedeliverDeliveryLog => "api-redeliver-delivery-log",
            Route::RecoverDeliveries => "api-recover-deliveries",
        }
    }

    /// Only the API description is readable without a key.
    pub fn requires_api_key(self) -> bool {
        self != Route::OpenApi
    }

    pub fn route_key(self) -> String {
        format!("{} {}", self.method(), self.path())
    }

    /// The route API Gateway matched, from its `requestContext.routeKey`.
    pub fn from_route_key(key: &str) -> Option<Route> {
        Route::ALL.into_iter().find(|r| key.split_once(' ') == Some((r.method(), r.path())))
    }
}

/// API Gateway's route key for requests no other route matched.
pub const DEFAULT_ROUTE_KEY: &str = "$default";

pub type PathParams = HashMap<String, String>;

fn match_path(template: &str, path: &str) -> Option<PathParams> {
    let (t, p): (Vec<_>, Vec<_>) = (template.split('/').collect(), path.split('/').collect());
    if t.len() != p.len() {
        return None;
    }
    let mut params = PathParams::new();
    for (ts, ps) in t.iter().zip(&p) {
        if let Some(name) = ts.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
            if ps.is_empty() {
                return None;
            }
            params.insert(name.to_owned(), (*ps).to_owned());
        } else if ts != ps {
            return None;
        }
    }
    Some(params)
}

/// Finds the route for a request the way API Gateway does: literal paths win over templates.
/// A path that exists under other methods answers 405 naming them, anything else 404. A literal
/// path is its own resource: its `Allow` lists its own methods, not those of a template it also
/// fits (`/v1/integrations/providers` is GET only, though `/v1/integrations/{id}` has more).
pub fn resolve(method: &str, path: &str) -> Result<(Route, PathParams), ApiError> {
    let mut candidates: Vec<(Route, PathParams)> =
        Route::ALL.iter().filter_map(|r| match_path(r.path(), path).map(|p| (*r, p))).collect();
    if candidates.is_empty() {
        return Err(ApiError::NotFound);
    }
    // Literal matches (no parameters) first.
    candidates.sort_by_key(|(_, params)| params.len());
    if let Some(hit) = candidates.iter().find(|(r, _)| r.method() == method) {
        return Ok(hit.clone());
    }
    let literal = candidates.iter().any(|(_, params)| params.is_empty());
    let mut allowed: Vec<&'static str> =
        candidates.iter().filter(|(_, params)| !literal || params.is_empty()).map(|(r, _)| r.method()).collect();
    allowed.sort_unstable();
    allowed.dedup();
    Err(ApiError::MethodNotAllowed { allowed })
}

/// A literal path that a template route's parameter spells, when that path exists but not with
/// the route's method: `PATCH /v1/integrations/providers` matches `PATCH /v1/integrations/{id}` in
/// API Gateway (and in [`resolve`]), yet `/v1/integrations/providers` is its own resource, served
/// only by GET, so the answer is 405 with its methods rather than a 404 for an id "providers".
pub fn shadowed_literal(route: Route, param: impl Fn(&str) -> Option<String>) -> Option<ApiError> {
    if !route.path().contains('{') {
        return None;
    }
    let mut segments = Vec::new();
    for segment in route.path().split('/') {
        match segment.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
            Some(name) => segments.push(param(name)?),
            None => segments.push(segment.to_owned()),
        }
    }
    let path = segments.join("/");
    let literal: Vec<Route> = Route::ALL.into_iter().filter(|r| r.path() == path).collect();
    if literal.is_empty() || literal.iter().any(|r| r.method() == route.method()) {
        return None;
    }
    let mut allowed: Vec<&'static str> = literal.iter().map(|r| r.method()).collect();
    allowed.sort_unstable();
    allowed.dedup();
    Some(ApiError::MethodNotAllowed { allowed })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolves_every_route_from_its_own_key() {
        for route in Route::ALL {
            let path = route.path().replace("{id}", "0190").replace("{logId}", "0191");
            assert_eq!(resolve(route.method(), &path).unwrap().0, route, "{route:?}");
        }
    }

    #[test]
    fn route_keys_name_their_routes_and_nothing_else() {
        for route in Route::ALL {
            assert_eq!(Route::from_route_key(&route.route_key()), Some(route));
        }
        for key in
            ["GET /v1/integrations/{id}/test", "get /v1/integrations", "GET  /v1/integrations", DEFAULT_ROUTE_KEY, ""]
        {
            assert_eq!(Route::from_route_key(key), None, "{key:?}");
        }
    }

    #[test]
    fn literal_paths_win_and_params_are_captured() {
        assert_eq!(resolve("GET", "/v1/integrations/providers").unwrap().0, Route::ListProviders);
        let (route, params) = resolve("GET", "/v1/integrations/abc").unwrap();
        assert_eq!(route, Route::GetIntegration);
        assert_eq!(params["id"], "abc");
    }

    #[test]
    fn a_parameter_that_spells_a_literal_path_is_that_path() {
        let id = |value: &'static str| move |name: &str| (name == "id").then(|| value.to_owned());
        match shadowed_literal(Route::UpdateIntegration, id("providers")) {
            Some(ApiError::MethodNotAllowed { allowed }) => assert_eq!(allowed, ["GET"]),
            other => panic!("unexpected {other:?}"),
        }
        assert!(shadowed_literal(Route::DeleteIntegration, id("providers")).is_some());
        // GET of the literal path is served by its own route, never by the template.
        assert!(shadowed_literal(Route::GetIntegration, id("providers")).is_none());
        assert!(shadowed_literal(Route::UpdateIntegration, id("0190")).is_none());
        assert!(shadowed_literal(Route::ListProviders, id("providers")).is_none());
    }

    #[test]
    fn unknown_paths_and_wrong_methods() {
        assert!(matches!(resolve("GET", "/v1/nope"), Err(ApiError::NotFound)));
        assert!(matches!(resolve("GET", "/v1/integrations/"), Err(ApiError::NotFound)));
        match resolve("PUT", "/v1/integrations") {
            Err(ApiError::MethodNotAllowed { allowed }) => assert_eq!(allowed, ["GET", "POST"]),
            other => panic!("unexpected {other:?}"),
        }
        assert!(matches!(resolve("DELETE", "/v1/openapi.json"), Err(ApiError::MethodNotAllowed { .. })));
        match resolve("OPTIONS", "/v1/integrations/providers") {
            Err(ApiError::MethodNotAllowed { allowed }) => assert_eq!(allowed, ["GET"]),
            other => panic!("unexpected {other:?}"),
        }
    }
}
