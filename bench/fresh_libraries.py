"""Imported first by a bench that reports its server's memory, before anything maps pyarrow: drops
the installed libraries' cached pages, as `dalserver serve` does before its workers start
(dalserver/http/library_cache.py).

The workers' resident library pages follow how the page cache holds the libraries: a library
some process keeps mapped stays in the large blocks an installer wrote it in, and a worker maps
such a block whole. Were the bench's own imports (common imports pyarrow) made first, its workers'
RssFile would be 95-100 MB each instead of a server's 60-65.
"""

from dalserver.http.library_cache import drop_cached_libraries

drop_cached_libraries()
