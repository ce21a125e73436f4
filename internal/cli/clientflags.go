package cli

// AddCheck adds f to the checks c runs once its flags are parsed.
func AddCheck(c *ClientCmd, f func() error) {
	prev := c.Check
	c.Check = func() error {
		if prev != nil {
			if err := prev(); err != nil {
				return err
			}
		}
		return f()
	}
}

// RequiredFlag adds a string flag that must be given.
func RequiredFlag(c *ClientCmd, name, usage string) *string {
	v := c.FS.String(name, "", usage)
	AddCheck(c, func() error {
		if *v == "" {
			return UsageError("--%s is required", name)
		}
		return nil
	})
	return v
}

// VaultFlag adds the required --vault flag to c.
func VaultFlag(c *ClientCmd) *string {
	vault := c.FS.String("vault", "", "backup vault `NAME`")
	c.Check = func() error {
		if *vault == "" {
			return UsageError("--vault is required")
		}
		return nil
	}
	return vault
}
