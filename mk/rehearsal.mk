# The AWS rehearsal (issue 15, item 5): TestAWSRehearsal in infra/ runs the four real bootstrap
# binaries with the synthesized template's environment, routes, event source mappings and IAM
# policies against dynalite and internal/fakeaws. `make test` runs it with the other infra
# tests; this target runs it alone, verbosely (each hop and every AWS call by role is logged).
.PHONY: rehearsal
rehearsal: deps tools ## the AWS rehearsal alone: one signed webhook through the real binaries on the synthesized stack
	$(GO) test -count=1 -run '^TestAWSRehearsal$$' -v ./infra
