"""The key's rate limit: a sliding window that learns, in-process or shared on Redis."""
