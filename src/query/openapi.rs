pub async fn document() -> super::error::ApiError {
    super::error::ApiError::NotFound("wip".into())
}
