// A shared library without the othrun entry point.
extern "C" int not_an_othrun_plugin() { return 42; }
