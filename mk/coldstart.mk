# Lambda cold start on this machine (issue 7, item 2): every function and an aws-lambda-go hello
# world built with LAMBDA_FLAGS for the host architecture (and zipped from a linux/arm64 build, as
# deployed), each started COLDSTART_N times under the fake Runtime API in internal/runtimeapi.
# Figures and how to read them: BENCHMARKS.md, "Lambda cold start".
COLDSTART_N ?= 20

.PHONY: coldstart
coldstart: deps ## cold start of each Lambda binary vs hello world (zip size, exec → first poll, CPU, → response)
	$(GO) run ./cmd/coldstart -n $(COLDSTART_N)
