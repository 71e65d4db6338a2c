"""The journey engines: one module per browser-automation library, behind one base.

``_base.Engine`` is what :class:`~maestro_test_adapters.AdvancedWebTester` drives;
``playwright.PlaywrightEngine`` and ``selenium.SeleniumEngine`` implement it. Each engine
module imports its library lazily, so importing this package loads neither.
"""
