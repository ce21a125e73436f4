package main

// addCheck adds f to the checks c runs once its flags are parsed.
func addCheck(c *clientCmd, f func() error) {
	prev := c.check
	c.check = func() error {
		if prev != nil {
			if err := prev(); err != nil {
				return err
			}
		}
		return f()
	}
}

// requiredFlag adds a string flag that must be given.
func requiredFlag(c *clientCmd, name, usage string) *string {
	v := c.fs.String(name, "", usage)
	addCheck(c, func() error {
		if *v == "" {
			return usageError("--%s is required", name)
		}
		return nil
	})
	return v
}

// vaultFlag adds the required --vault flag to c.
func vaultFlag(c *clientCmd) *string {
	vault := c.fs.String("vault", "", "backup vault `NAME`")
	c.check = func() error {
		if *vault == "" {
			return usageError("--vault is required")
		}
		return nil
	}
	return vault
}
