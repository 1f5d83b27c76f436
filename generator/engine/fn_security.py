"""The effective user's identity: USERPRINCIPALNAME, USERNAME, CUSTOMDATA.

Offline there is no signed-in user: the engine's `user` option (`--as-user`) is the value
(learn.microsoft.com/dax/userprincipalname-function-dax); without it they return "" so a
dynamic security filter sees no rows rather than someone else's. CUSTOMDATA is BLANK (no
connection-string CustomData offline; the Desktop oracle returns BLANK too).
"""
from __future__ import annotations

from generator.engine.compiler import CompilerCore
from generator.engine.values import lit


class SecurityFns(CompilerCore):

    def fn_USERPRINCIPALNAME(self, call, env):
        self.args(call, env, 0, 0)
        return lit(self.schema.user)

    def fn_USERNAME(self, call, env):
        self.args(call, env, 0, 0)
        return lit(self.schema.user)
