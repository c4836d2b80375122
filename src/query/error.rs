//! The one error shape of the query API: `{"error": {"code": "...", "message": "..."}}` with its HTTP status.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

/// Everything a query handler can answer instead of data.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ApiError {
    /// A query or path parameter is missing, malformed or out of range (400).
    #[error("invalid parameter `{param}`: {message}")]
    BadParam {
        /// The parameter's name as the client sent it.
        param: String,
        /// What is wrong and what is expected.
        message: String,
    },
    /// The id or name in the path does not exist (404).
    #[error("{0}")]
    NotFound(String),
    /// A bearer token is required and was missing or wrong (401).
    #[error("missing or invalid bearer token")]
    Unauthorized,
    /// The database cannot be reached right now (503); the client may retry.
    #[error("database unavailable: {0}")]
    Unavailable(String),
    /// The query ran longer than the statement timeout (503): narrow the window or the filters.
    #[error("the query ran longer than the statement timeout; narrow the time window or add filters")]
    Timeout,
    /// A bug or an unexpected database answer (500); details go to the server log only.
    #[error("internal error")]
    Internal(String),
}

impl ApiError {
    /// A 400 naming `param`.
    pub fn bad(param: impl Into<String>, message: impl Into<String>) -> ApiError {
        ApiError::BadParam { param: param.into(), message: message.into() }
    }

    /// An unexpected condition (e.g. stored data that cannot be decoded).
    pub fn internal(message: impl Into<String>) -> ApiError {
        ApiError::Internal(message.into())
    }

    /// The HTTP status of this error.
    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::BadParam { .. } => StatusCode::BAD_REQUEST,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::Unauthorized => StatusCode::UNAUTHORIZED,
            ApiError::Unavailable(_) | ApiError::Timeout => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The stable machine-readable code of this error.
    pub fn code(&self) -> &'static str {
        match self {
            ApiError::BadParam { .. } => "invalid_parameter",
            ApiError::NotFound(_) => "not_found",
            ApiError::Unauthorized => "unauthorized",
            ApiError::Unavailable(_) => "database_unavailable",
            ApiError::Timeout => "query_timeout",
            ApiError::Internal(_) => "internal",
        }
    }

    /// An error met while getting a connection: whatever it is, the database is not usable now.
    pub fn unavailable(e: sqlx::Error) -> ApiError {
        ApiError::Unavailable(e.to_string())
    }
}

impl From<sqlx::Error> for ApiError {
    fn from(e: sqlx::Error) -> Self {
        match &e {
            sqlx::Error::Database(db) => match db.code().as_deref() {
                // query_canceled: the statement timeout fired.
                Some("57014") => ApiError::Timeout,
                // Connection exceptions, operator intervention (shutdown, restart), insufficient resources,
                // the database gone or not accepting connections: the server side is not usable now.
                Some(c)
                    if c.starts_with("08")
                        || c.starts_with("57P")
                        || c.starts_with("53")
                        || c == "3D000"
                        || c == "55000" =>
                {
                    ApiError::Unavailable(e.to_string())
                }
                _ => ApiError::Internal(e.to_string()),
            },
            sqlx::Error::PoolTimedOut
            | sqlx::Error::PoolClosed
            | sqlx::Error::Io(_)
            | sqlx::Error::Tls(_)
            | sqlx::Error::Protocol(_)
            | sqlx::Error::WorkerCrashed => ApiError::Unavailable(e.to_string()),
            _ => ApiError::Internal(e.to_string()),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if let ApiError::Internal(detail) = &self {
            tracing::error!(detail = %detail, "query API internal error");
        }
        if let ApiError::Unavailable(detail) = &self {
            tracing::warn!(detail = %detail, "query API: database unavailable");
        }
        let message = match &self {
            // Connection details (host names, ports) stay in the log.
            ApiError::Unavailable(_) => "the database is unreachable; retry later".to_string(),
            other => other.to_string(),
        };
        let body = json!({"error": {"code": self.code(), "message": message}});
        let mut resp = (self.status(), Json(body)).into_response();
        if matches!(self, ApiError::Unavailable(_) | ApiError::Timeout) {
            resp.headers_mut().insert(axum::http::header::RETRY_AFTER, axum::http::HeaderValue::from_static("5"));
        }
        if matches!(self, ApiError::Unauthorized) {
            resp.headers_mut()
                .insert(axum::http::header::WWW_AUTHENTICATE, axum::http::HeaderValue::from_static("Bearer"));
        }
        resp
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_and_statuses() {
        let e = ApiError::bad("from", "not a time");
        assert_eq!(e.status(), StatusCode::BAD_REQUEST);
        assert_eq!(e.to_string(), "invalid parameter `from`: not a time");
        assert_eq!(ApiError::Timeout.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(ApiError::from(sqlx::Error::PoolTimedOut).code(), "database_unavailable");
        assert_eq!(ApiError::from(sqlx::Error::RowNotFound).code(), "internal");
    }
}
