package main

import (
	"time"

	"github.com/spf13/cobra"

	"hookline/pkg/localrun"
	"hookline/pkg/pipeline"
	"hookline/pkg/rotation"
	"hookline/pkg/source"
)

const sourcesLong = `Shows, for each source and each of its secrets (KEY: the 0-based index in the source's
"secrets" list), how many stored events that secret verified and when the last one arrived.
Rotate a secret by adding the new one to the end of the list, switching the sender, and
removing the old one once this shows it unused. Removing a secret shifts the indexes of those
after it; events keep the index they were verified with.

Reads a hookline local data dir. With --sources, every configured secret is listed, unused
ones with 0 events. On AWS the same counts are the SignatureKeyMatch metric (namespace
Hookline, dimensions Source and Key) on the stack's dashboard.`

func (c *app) sourcesCmd() *cobra.Command {
	var data, since, sourcesFile string
	var asJSON bool
	cmd := leafCmd("sources [flags]", "which secret verified how many events, per source (rotation tracking)", sourcesLong, positional(0, 0, ""), func(cmd *cobra.Command, _ []string) error {
		from, err := pipeline.ParseTimeBound("--since", since, time.Now())
		if err != nil {
			return usageErrorf("%s", pipeline.DetailOf(err))
		}
		var set rotation.Sources // nil: list only what verified something
		if sourcesFile != "" {
			s, err := source.Load(sourcesFile)
			if err != nil {
				return err
			}
			set = s
		}
		eng, err := openLocal(data)
		if err != nil {
			return err
		}
		defer eng.Close()
		used, err := eng.Events().KeyUsage(cmd.Context(), from)
		if err != nil {
			return err
		}
		rows, err := rotation.Table(cmd.Context(), set, used)
		if err != nil {
			return err
		}
		return rotation.Print(c.stdout, rows, set != nil, asJSON)
	})
	fs := cmd.Flags()
	fs.StringVar(&data, "data", localrun.DefaultDataDir, "hookline local data dir to read")
	bindEnv(fs, "data", "HOOKLINE_DATA")
	fs.StringVar(&since, "since", "168h", "count events received since: a duration back from now (168h = 7 days) or an RFC 3339 time")
	fs.StringVar(&sourcesFile, "sources", "", "the sources config, to list unused secrets too")
	bindEnv(fs, "sources", "HOOKLINE_SOURCES")
	fs.BoolVar(&asJSON, "json", false, "one JSON object per line")
	return cmd
}
