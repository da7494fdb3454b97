"""crossbook serve: the desk as a long-running service, its HTTP and WebSocket API
(``crossbook.service.api``), the process around it (``crossbook.service.runner``) and the built-in
dashboard."""
