from ..feeds.handler import FeedHandler

FEEDS: dict[str, type[FeedHandler]] = {}
