"""What every app shares and no app owns: the conventions they all follow.

One small module per concern: who may see what (access), how the API answers and describes
its errors (api, openapi, throttling), how lists are cut into pages (paging), what was seen
or changed by whom (audit), and what day it is at the clinic (clinic_time). Every app may
import it; it imports no app (conventions/tests/test_layers.py holds both), so it could be
lifted out as it is. The project package, `ava`, only wires the apps together.
"""
