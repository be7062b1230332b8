"""Where jobs live: an abstract flow (``base``) and its DynamoDB backend."""

from .base import JobStore
from .dynamodb import DynamoDBJobStore
from .tables import create_tables

__all__ = ["DynamoDBJobStore", "JobStore", "create_tables"]
